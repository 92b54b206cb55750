using System.Globalization;
using Dataflow.Chat.Tasks;

namespace Dataflow.Chat.Sft;

/// <summary>
/// The task weights synthetic SFT draws from. Full SFT uses <see cref="ChatTasks.Mixture"/> (the base
/// corpus's). LoRA SFT draws the same generators and held-out splits at <see cref="Lora"/>: a rank-8
/// adapter on the attention learns to reverse and sort lists far slower than full SFT (0.195 against
/// 0.275 after 2000 steps of the shared mixture) while it counts letters as well (0.995 against 0.990),
/// so LoRA takes a unit and a half of weight from spelling and gives it to lists (3.5×) and to
/// 3-digit addition (1.5×, the task with the least room under its target); the total is unchanged.
/// </summary>
public static class SftMixture
{
    public static IReadOnlyList<(string Task, double Weight)> Lora { get; } =
    [
        ("arithmetic", 4), ("spelling", 2.5), ("tool-arithmetic", 1), ("lists", 1.75), ("arithmetic-hard", 0.75), ("greetings", 0.3),
    ];

    /// <summary>The weights of a run with (<paramref name="lora"/>) or without adapters.</summary>
    public static IReadOnlyList<(string Task, double Weight)> Weights(bool lora) => lora ? Lora : ChatTasks.Mixture;

    public static TaskMixture Create(bool lora, Func<WordList> words) => new(Weights(lora).Select(m => (ChatTasks.Create(m.Task, words), m.Weight)));

    /// <summary><c>arithmetic 4, spelling 2.5, …</c>, for the run's description line.</summary>
    public static string Describe(bool lora) =>
        string.Join(", ", Weights(lora).Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Task} {m.Weight:G}")));
}
