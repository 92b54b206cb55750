using Dataflow.Engine.Sessions;
using Dataflow.Generation;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>
/// Held-out problems answered greedily (temperature 0), one completion each, scored by the run's
/// reward: the mean reward and the pass rate (pass@1 of the greedy policy). The loss the trainer sees
/// is −mean reward, so a lower loss is a better policy, as everywhere else.
/// </summary>
internal sealed class RewardEvaluator(GrpoPolicy policy, IReadOnlyList<int[]> prompts, RewardFunction reward, RolloutOptions options, double threshold) : IEvaluator
{
    public const string HeldOutReward = "heldout_reward", HeldOutPass = "heldout_pass@1";

    public Evaluation Evaluate(Session session)
    {
        var seeds = Enumerable.Range(0, prompts.Count).Select(i => (ulong)i).ToArray();
        var results = policy.Rollouts.Sample(prompts, seeds, options, new SamplingOptions(Temperature: 0));
        var rewards = results.Select((r, i) => reward(i, r)).ToArray();
        double mean = rewards.Average(), passed = rewards.Count(r => r >= threshold) / (double)rewards.Length;
        return new Evaluation(-mean, [Evaluation.Metric(HeldOutReward, mean), Evaluation.Metric(HeldOutPass, passed)]) { Accuracy = passed };
    }
}
