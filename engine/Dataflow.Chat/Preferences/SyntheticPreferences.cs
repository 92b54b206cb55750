using Dataflow.Chat.Tasks;
using Dataflow.Engine;
using Dataflow.Reinforcement;

namespace Dataflow.Chat.Preferences;

/// <summary>
/// Preference pairs the project makes from its chat tasks: the prompt is a task problem's question,
/// the chosen reply the task's own reply, the rejected one the same reply with a plausible mistake: in
/// column working a wrong step and the answer it leads to (<see cref="ColumnMistake"/>), otherwise a wrong
/// answer (<see cref="WrongAnswer"/>) or, where the answer is prose (greetings), a rude reply. Both must be
/// judged by the task's verifier as expected (chosen correct, rejected not), so a change of a task's
/// reply format that the corruption cannot follow fails loudly instead of making wrong pairs. Pair
/// <c>i</c> is task <c>i mod tasks</c>'s problem drawn with seed (seed, i) on the split's side of
/// the task's held-out line, so training and held-out pairs never share a problem (greetings, which hold
/// nothing out, excepted).
/// </summary>
public static class SyntheticPreferences
{
    /// <summary>The tasks pairs are made from by default: every task whose reply is one plain assistant message.</summary>
    public static IReadOnlyList<string> TaskNames { get; } = ["arithmetic", "arithmetic-hard", "spelling", "lists", "greetings"];

    /// <summary>Rude answers to a greeting: what a polite reply is preferred over.</summary>
    private static readonly string[] Rude =
    [
        "Go away.", "Not now, I am busy.", "Whatever.", "Stop bothering me.", "Ask someone else.", "I do not care.", "Leave me alone.", "That is a stupid question.",
    ];

    public static IReadOnlyList<PreferencePair> Make(IReadOnlyList<IChatTask> tasks, DataSplit split, int count, int seed)
    {
        if (tasks.Count == 0) throw new ConfigurationException("synthetic preference pairs need at least one chat task");
        var pairs = new PreferencePair[count];
        for (int i = 0; i < count; i++)
        {
            var (task, problem, random) = Draw(tasks, split, seed, i);
            pairs[i] = Pair(task, problem, random);
        }
        return pairs;
    }

    /// <summary>The task and problem pair <paramref name="index"/> of <see cref="Make"/> is made from.</summary>
    public static (IChatTask Task, ChatProblem Problem) ProblemAt(IReadOnlyList<IChatTask> tasks, DataSplit split, int seed, int index)
    {
        var (task, problem, _) = Draw(tasks, split, seed, index);
        return (task, problem);
    }

    private static (IChatTask, ChatProblem, Random) Draw(IReadOnlyList<IChatTask> tasks, DataSplit split, int seed, int index)
    {
        var task = tasks[index % tasks.Count];
        var random = new Random(SyntheticConversations.SeedOf(seed, index, split));
        return (task, task.Make(random, split), random);
    }

    /// <summary>One problem's pair; the task's reply must be a single assistant message after a single user question.</summary>
    public static PreferencePair Pair(IChatTask task, ChatProblem problem, Random random)
    {
        if (problem.Prompt is not [{ Role: ChatRole.User } question] || problem.Reply is not [{ Role: ChatRole.Assistant } reply])
            throw new ConfigurationException($"chat task {task.Name}: its problems are not one question and one plain reply (a tool call?), so they make no preference pairs; choose among {string.Join(", ", TaskNames)}");
        string rejected = ColumnMistake.Make(reply.Content, random) ?? WrongAnswer.Corrupt(reply.Content, problem.Expected, random) ?? Rude[random.Next(Rude.Length)];
        if (!task.IsCorrect(problem, reply.Content) || task.IsCorrect(problem, rejected))
            throw new InvalidOperationException($"chat task {task.Name}: its verifier does not tell the pair apart ('{reply.Content}' should pass, '{rejected}' fail): the wrong-answer maker no longer fits the task's replies");
        return new PreferencePair(question.Content, reply.Content, rejected);
    }
}
