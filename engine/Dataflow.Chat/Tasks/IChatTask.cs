namespace Dataflow.Chat.Tasks;

/// <summary>Which side of a task's held-out line a problem comes from; test problems never appear in training data or in the base corpus.</summary>
public enum DataSplit { Train, Test }

/// <summary>
/// One generated problem: the conversation up to the assistant's turn, the assistant's turn as the
/// training data has it, and the answer a reply must reach (what <see cref="IChatTask.IsCorrect"/> checks).
/// </summary>
public sealed record ChatProblem(string Task, IReadOnlyList<ChatMessage> Prompt, IReadOnlyList<ChatMessage> Reply, string Expected)
{
    /// <summary>Prompt and reply: the conversation SFT trains on.</summary>
    public IReadOnlyList<ChatMessage> Conversation => [.. Prompt, .. Reply];
}

/// <summary>
/// A synthetic chat task: makes seeded problems on either side of a held-out split, checks a
/// generated reply, and writes a problem as plain prose for the base corpus. SFT trains on the
/// problems, <c>eval --chat-task</c> measures them, and a reward for RL is <see cref="IsCorrect"/>.
/// </summary>
public interface IChatTask
{
    /// <summary>The name on the command line: arithmetic, spelling, …</summary>
    string Name { get; }

    /// <summary>One line for help and errors.</summary>
    string Description { get; }

    ChatProblem Make(Random random, DataSplit split);

    /// <param name="reply">The assistant's turn as generated: its text, with any tool calls and outputs as their markers.</param>
    bool IsCorrect(ChatProblem problem, string reply);

    /// <summary>The problem and its answer as one line of plain text (no chat markers).</summary>
    string Prose(ChatProblem problem);
}
