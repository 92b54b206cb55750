namespace Dataflow.Chat.Tasks;

/// <summary>
/// A task's problems on one side of the split, with each prompt rendered up to the opened assistant
/// turn: what RL samples completions for. Problem i is drawn with seed (seed, i), as the evaluation
/// draws them, so <c>eval --chat-task</c> and a run's held-out set are the same questions.
/// </summary>
public sealed record TaskPrompts(IReadOnlyList<ChatProblem> Problems, IReadOnlyList<int[]> Prompts)
{
    public static TaskPrompts Make(IChatTask task, ChatRenderer renderer, DataSplit split, int count, int seed)
    {
        var problems = new ChatProblem[count];
        var prompts = new int[count][];
        for (int i = 0; i < count; i++)
        {
            problems[i] = task.Make(new Random(SyntheticConversations.SeedOf(seed, i, split)), split);
            prompts[i] = renderer.RenderPrompt(problems[i].Prompt);
        }
        return new TaskPrompts(problems, prompts);
    }
}
