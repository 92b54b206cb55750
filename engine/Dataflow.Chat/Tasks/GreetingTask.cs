namespace Dataflow.Chat.Tasks;

/// <summary>A handful of greeting and identity turns, so the assistant says who it is; there is nothing to hold out, so both splits are the same set.</summary>
public sealed class GreetingTask : IChatTask
{
    public const string Identity = "I am Dataflow's tiny assistant.";

    private static readonly (string Question, string Answer)[] Turns =
    [
        ("Hello!", "Hello! " + Identity),
        ("Hi", "Hi! " + Identity),
        ("Who are you?", Identity),
        ("What can you do?", "Arithmetic, letter counts and lists."),
        ("What is your name?", "My name is Dataflow."),
        ("Thanks!", "You are welcome!"),
        ("Thank you.", "You are welcome!"),
        ("Goodbye", "Goodbye!"),
    ];

    public string Name => "greetings";
    public string Description => "greeting and identity turns";

    public ChatProblem Make(Random random, DataSplit split)
    {
        var (question, answer) = Turns[random.Next(Turns.Length)];
        return new ChatProblem(Name, [ChatMessage.User(question)], [ChatMessage.Assistant(answer)], answer);
    }

    public bool IsCorrect(ChatProblem problem, string reply) => ChatReply.FinalText(reply) == problem.Expected;

    public string Prose(ChatProblem problem) => $"{problem.Prompt[^1].Content} {problem.Expected}";
}
