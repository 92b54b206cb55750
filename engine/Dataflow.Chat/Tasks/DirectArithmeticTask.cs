using System.Globalization;

namespace Dataflow.Chat.Tasks;

/// <summary>
/// An arithmetic question the assistant answers without the tool, working it column by column
/// (<see cref="ColumnArithmetic"/>): "7+8=15, 4+3+1=8, so 85" for 47 + 38. The held-out split is by operand pair and operation, so a test question was never trained on.
/// </summary>
public sealed class DirectArithmeticTask(string name, string description, Func<Random, (long A, char Op, long B)> draw) : IChatTask
{
    // Few wordings: a 1M-parameter model trained for minutes learns the arithmetic, not the phrasing.
    private static readonly string[] Templates = ["What is {0}?", "{0} = ?"];

    public string Name { get; } = name;
    public string Description { get; } = description;

    /// <summary>2-digit addition and subtraction (the larger operand first, so results are not negative).</summary>
    public static DirectArithmeticTask TwoDigit() => new("arithmetic", "2-digit addition and subtraction, answered directly", r =>
    {
        long a = r.Next(10, 100), b = r.Next(10, 100);
        return r.Next(2) == 0 ? (a, '+', b) : (Math.Max(a, b), '-', Math.Min(a, b));
    });

    /// <summary>3-digit addition with at least one carry, answered directly (no tool): beyond what SFT masters, for RL to improve.</summary>
    public static DirectArithmeticTask ThreeDigitCarries() => new("arithmetic-hard", "3-digit addition with carries, answered directly (no tool)", r =>
    {
        while (true)
        {
            long a = r.Next(100, 1000), b = r.Next(100, 1000);
            if (a % 10 + b % 10 >= 10 || a / 10 % 10 + b / 10 % 10 >= 10) return (a, '+', b);
        }
    });

    /// <summary>
    /// 3-digit subtraction with at least one borrow, answered directly: kept out of the SFT mixture, so SFT
    /// knows it only through the column method it learnt on 2-digit subtraction and 3-digit addition — the
    /// half-known task GRPO practises on.
    /// </summary>
    public static DirectArithmeticTask ThreeDigitBorrows() => new("subtraction-hard", "3-digit subtraction with borrows, answered directly (no tool); not in the SFT mixture", r =>
    {
        while (true)
        {
            long a = r.Next(100, 1000), b = r.Next(100, 1000);
            (a, b) = (Math.Max(a, b), Math.Min(a, b));
            if (a % 10 < b % 10 || a / 10 % 10 < b / 10 % 10) return (a, '-', b);
        }
    });

    public ChatProblem Make(Random random, DataSplit split)
    {
        var (a, op, b) = HeldOut.Draw(random, split, r => { var p = draw(r); return ($"{Name}:{p.A}{p.Op}{p.B}", p); });
        string question = string.Format(CultureInfo.InvariantCulture, Templates[random.Next(Templates.Length)], Problem(a, op, b));
        return new ChatProblem(Name, [ChatMessage.User(question)], [ChatMessage.Assistant(ColumnArithmetic.Working(a, op, b))], Result(a, op, b));
    }

    public bool IsCorrect(ChatProblem problem, string reply) => ChatReply.LastInteger(reply) == problem.Expected;

    public string Prose(ChatProblem problem) => $"{problem.Prompt[^1].Content} {problem.Reply[^1].Content}.";

    internal static string Problem(long a, char op, long b) => string.Create(CultureInfo.InvariantCulture, $"{a} {op} {b}");

    internal static string Result(long a, char op, long b) => (op switch { '+' => a + b, '-' => a - b, _ => a * b }).ToString(CultureInfo.InvariantCulture);
}
