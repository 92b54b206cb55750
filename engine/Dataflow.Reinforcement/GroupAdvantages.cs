namespace Dataflow.Reinforcement;

/// <summary>
/// GRPO's advantages: each completion's reward minus its group's mean (nanochat), divided by the
/// group's standard deviation when asked (TRL's default, with its 1e-4 guard). A group whose rewards
/// all tie carries no signal: its advantages are zero and it is counted as skipped.
/// </summary>
public static class GroupAdvantages
{
    /// <param name="rewards">Rewards in groups of <paramref name="group"/> consecutive completions of one prompt.</param>
    public static (double[] Advantages, bool[] Skipped) Compute(IReadOnlyList<double> rewards, int group, bool scaleByStd)
    {
        if (group < 1 || rewards.Count % group != 0)
            throw new ArgumentException($"{rewards.Count} rewards do not make groups of {group}", nameof(rewards));
        var advantages = new double[rewards.Count];
        var skipped = new bool[rewards.Count / group];
        for (int g = 0; g < skipped.Length; g++)
        {
            int start = g * group;
            double mean = 0;
            for (int i = 0; i < group; i++) mean += rewards[start + i];
            mean /= group;
            double variance = 0;
            bool tied = true;
            for (int i = 0; i < group; i++)
            {
                double d = rewards[start + i] - mean;
                variance += d * d;
                tied &= rewards[start + i] == rewards[start];
            }
            skipped[g] = tied;
            if (tied) continue;
            // TRL's torch.std is the unbiased estimate (n − 1).
            double scale = scaleByStd ? 1 / (Math.Sqrt(variance / Math.Max(1, group - 1)) + 1e-4) : 1;
            for (int i = 0; i < group; i++) advantages[start + i] = (rewards[start + i] - mean) * scale;
        }
        return (advantages, skipped);
    }
}
