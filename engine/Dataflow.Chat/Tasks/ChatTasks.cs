using Dataflow.Engine;

namespace Dataflow.Chat.Tasks;

/// <summary>The synthetic chat tasks by name, and the mixture SFT and the base corpus draw from.</summary>
public static class ChatTasks
{
    /// <summary>Every task name, in the order help and errors list them.</summary>
    public static IReadOnlyList<string> Names { get; } = ["arithmetic", "arithmetic-hard", "subtraction-hard", "tool-arithmetic", "spelling", "lists", "greetings"];

    /// <summary>The task called <paramref name="name"/>; <paramref name="words"/> is asked for only by the spelling task.</summary>
    public static IChatTask Create(string name, Func<WordList> words) => name switch
    {
        "arithmetic" => DirectArithmeticTask.TwoDigit(),
        "arithmetic-hard" => DirectArithmeticTask.ThreeDigitCarries(),
        "subtraction-hard" => DirectArithmeticTask.ThreeDigitBorrows(),
        "tool-arithmetic" => new ToolArithmeticTask(),
        "spelling" => new LetterCountTask(words()),
        "lists" => new ListTask(),
        "greetings" => new GreetingTask(),
        _ => throw new ConfigurationException($"unknown chat task '{name}': expected one of {string.Join(", ", Names)}"),
    };

    /// <summary>
    /// How often each task appears in the synthetic SFT data and base corpus: mostly the two the
    /// targets find hardest (column arithmetic and letter counting), less of the tool call (a copy,
    /// learnt quickly), a little 3-digit addition (so SFT half-knows it and RL has groups that do not
    /// tie) and a few greetings.
    /// </summary>
    public static IReadOnlyList<(string Task, double Weight)> Mixture { get; } =
    [
        ("arithmetic", 4), ("spelling", 4), ("tool-arithmetic", 1), ("lists", 0.5), ("arithmetic-hard", 0.5), ("greetings", 0.3),
    ];
}
