using System.Globalization;

namespace Dataflow.Chat.Tasks;

/// <summary>
/// 4-digit × 4-digit multiplication through the calculator: the assistant writes the call
/// (<c>4821*7732</c>), the runtime answers it, and the assistant repeats the result. Held out by operand pair.
/// </summary>
public sealed class ToolArithmeticTask : IChatTask
{
    private static readonly string[] Templates = ["What is {0} * {1}?", "{0} * {1} = ?"];

    public string Name => "tool-arithmetic";
    public string Description => "4-digit × 4-digit multiplication with the calculator tool";

    public ChatProblem Make(Random random, DataSplit split)
    {
        var (a, b) = HeldOut.Draw(random, split, r => { long x = r.Next(1000, 10000), y = r.Next(1000, 10000); return ($"{Name}:{x}*{y}", (x, y)); });
        string result = (a * b).ToString(CultureInfo.InvariantCulture);
        string question = string.Format(CultureInfo.InvariantCulture, Templates[random.Next(Templates.Length)], a, b);
        return new ChatProblem(Name, [ChatMessage.User(question)],
            [ChatMessage.Call(string.Create(CultureInfo.InvariantCulture, $"{a}*{b}")), ChatMessage.Output(result), ChatMessage.Assistant(result)], result);
    }

    public bool IsCorrect(ChatProblem problem, string reply) => ChatReply.LastInteger(reply) == problem.Expected;

    /// <summary>The call, its result and the result repeated: the base model learns to copy it, which is all the tool turn asks.</summary>
    public string Prose(ChatProblem problem) => $"{problem.Prompt[^1].Content} calc {problem.Reply[0].Content} gives {problem.Expected}, so {problem.Expected}.";
}
