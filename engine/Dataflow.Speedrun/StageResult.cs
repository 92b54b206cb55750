using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>A chat task's held-out accuracy before a stage (NaN where it does not apply) and after it.</summary>
public sealed record TaskAccuracy(string Task, double Before, double After);

/// <summary>
/// GRPO's reward curve in a few numbers: the per-step mean reward of the training rollouts (first and
/// last steps, the means of the first and last quarter, the best) and the held-out greedy pass@1 at each evaluation.
/// </summary>
public sealed record RewardCurve(double First, double Last, double FirstQuarterMean, double LastQuarterMean, double Best, int SkippedGroups,
    IReadOnlyList<(long Step, double PassAt1)> HeldOut)
{
    public static RewardCurve Of(IReadOnlyList<double> meanRewards, IReadOnlyList<double> skipped, IReadOnlyList<(long, double)> heldOut)
    {
        if (meanRewards.Count == 0) return new RewardCurve(double.NaN, double.NaN, double.NaN, double.NaN, double.NaN, 0, heldOut);
        int quarter = Math.Max(1, meanRewards.Count / 4);
        return new RewardCurve(meanRewards[0], meanRewards[^1], meanRewards.Take(quarter).Average(), meanRewards.TakeLast(quarter).Average(),
            meanRewards.Max(), (int)skipped.Sum(), heldOut);
    }
}

/// <summary>
/// What one stage of the speedrun did: its time and steps (with the recipe's, which the budget scaled),
/// its checkpoint, its numbers in the order the report card shows them, the chat tasks' accuracies
/// before and after it, and for RL the reward curve.
/// </summary>
public sealed record StageResult(string Name, double Seconds)
{
    public long Steps { get; init; }
    public long RecipeSteps { get; init; }

    /// <summary>The steps the budget planned from the probes (the recipe's, scaled); <see cref="Steps"/> is fewer when the deadline stopped the run.</summary>
    public long PlannedSteps { get; init; }

    /// <summary>True when the stage's deadline stopped its training loop before <see cref="PlannedSteps"/>.</summary>
    public bool StoppedAtBudget { get; init; }

    /// <summary>What the budget changed, for people: "stopped at budget after N of M steps", a smaller final evaluation.</summary>
    public IReadOnlyList<string> Notes { get; init; } = [];
    public string? Checkpoint { get; init; }

    /// <summary>One line for people: what ran, on what.</summary>
    public string Description { get; init; } = "";

    public IReadOnlyList<KeyValuePair<string, double>> Metrics { get; init; } = [];
    public IReadOnlyList<TaskAccuracy> Accuracies { get; init; } = [];
    public RewardCurve? Rewards { get; init; }

    /// <summary>The note of a run its deadline stopped, or none.</summary>
    public static IReadOnlyList<string> BudgetNotes(TrainResult result, long planned) =>
        result.StoppedAtDeadline ? [$"stopped at budget after {result.Steps} of {planned} steps"] : [];

    public static KeyValuePair<string, double> Metric(string name, double value) => Evaluation.Metric(name, value);
}
