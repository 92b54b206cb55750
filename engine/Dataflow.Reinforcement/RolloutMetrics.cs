using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>The numbers a GRPO step logs about its rollout.</summary>
public static class RolloutMetrics
{
    public const string MeanReward = "mean_reward", PassAt1 = "pass@1", PassAtGroup = "pass@G", Kl = "kl",
        CompletionLength = "completion_length", SkippedGroups = "skipped_groups";

    /// <param name="rewards">In groups of <paramref name="group"/>; a completion passes when its reward reaches <paramref name="threshold"/>.</param>
    public static IReadOnlyList<KeyValuePair<string, double>> Of(IReadOnlyList<double> rewards, int group, double threshold, IReadOnlyList<int> lengths, int skipped, double kl)
    {
        int groups = rewards.Count / group, anyPassed = 0;
        for (int g = 0; g < groups; g++)
            if (Enumerable.Range(g * group, group).Any(i => rewards[i] >= threshold)) anyPassed++;
        return
        [
            Evaluation.Metric(MeanReward, rewards.Average()),
            Evaluation.Metric(PassAt1, rewards.Count(r => r >= threshold) / (double)rewards.Count),
            Evaluation.Metric(PassAtGroup, anyPassed / (double)groups),
            Evaluation.Metric(Kl, kl),
            Evaluation.Metric(CompletionLength, lengths.Average()),
            Evaluation.Metric(SkippedGroups, skipped),
        ];
    }
}
