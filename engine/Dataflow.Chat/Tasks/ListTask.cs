using System.Globalization;

namespace Dataflow.Chat.Tasks;

/// <summary>Reversing or sorting a short list of numbers (3 to 6 of 0–99); held out by the list and the operation.</summary>
public sealed class ListTask : IChatTask
{
    public string Name => "lists";
    public string Description => "reversing and sorting short lists of numbers";

    public ChatProblem Make(Random random, DataSplit split)
    {
        var (sort, items) = HeldOut.Draw(random, split, r =>
        {
            bool s = r.Next(2) == 0;
            int[] list = [.. Enumerable.Range(0, r.Next(3, 7)).Select(_ => r.Next(0, 100))];
            return ($"{Name}:{(s ? "sort" : "reverse")}:{Join(list)}", (s, list));
        });
        int[] result = sort ? [.. items.Order()] : [.. items.Reverse()];
        string question = (sort, random.Next(2)) switch
        {
            (true, 0) => $"Sort the list {Join(items)}.",
            (true, _) => $"Sort {Join(items)}.",
            (false, 0) => $"Reverse the list {Join(items)}.",
            (false, _) => $"Reverse {Join(items)}.",
        };
        string answer = Join(result);
        return new ChatProblem(Name, [ChatMessage.User(question)], [ChatMessage.Assistant(answer)], answer);
    }

    public bool IsCorrect(ChatProblem problem, string reply) => ChatReply.FinalText(reply).TrimEnd('.') == problem.Expected;

    public string Prose(ChatProblem problem) => $"{problem.Prompt[^1].Content} {problem.Expected}.";

    private static string Join(IEnumerable<int> items) => string.Join(' ', items.Select(i => i.ToString(CultureInfo.InvariantCulture)));
}
