using Dataflow.Engine;
using Dataflow.Generation;

namespace Dataflow.Reinforcement;

/// <summary>A completion's reward: the prompt's index in the run's prompt list, and what the policy wrote.</summary>
public delegate double RewardFunction(int prompt, GenerationResult completion);

/// <summary>
/// A rollout's rewards at once: completion r answers prompt <c>prompts[r]</c> (an index into the run's
/// prompt list). A reward model scores a whole rollout in a few batched passes this way.
/// </summary>
public delegate double[] BatchRewardFunction(IReadOnlyList<int> prompts, IReadOnlyList<GenerationResult> completions);

/// <summary>
/// One GRPO run (TRL's GRPOTrainer, nanochat's on-policy variant): every step samples
/// <see cref="Group"/> completions for each of <see cref="PromptsPerStep"/> prompts, rewards them,
/// normalises the rewards within each group and takes <see cref="UpdatesPerBatch"/> optimizer steps
/// on the clipped objective. <see cref="Beta"/> &gt; 0 adds the k3 KL penalty to a frozen copy of
/// the starting policy.
/// </summary>
public sealed record GrpoSettings : PostTrainingSettings
{
    public int Group { get; init; } = 16;
    public int PromptsPerStep { get; init; } = 8;
    public double Clip { get; init; } = 0.2;

    /// <summary>The KL coefficient β; 0 (nanochat, TRL's default) needs no reference policy.</summary>
    public double Beta { get; init; }

    /// <summary>Divide by the group's standard deviation (TRL's default); false: reward − group mean only (nanochat).</summary>
    public bool ScaleByStd { get; init; } = true;

    /// <summary>A completion passes (pass@1, pass@G) when its reward is at least this.</summary>
    public double SuccessThreshold { get; init; } = 1;

    /// <summary>Optimizer steps per sampled batch (TRL's num_iterations); above 1 the ratio leaves 1 and the clip matters.</summary>
    public int UpdatesPerBatch { get; init; } = 1;

    public RolloutOptions Rollout { get; init; } = new();

    public GrpoSettings Validated()
    {
        if (Group < 2) throw new ConfigurationException($"--group {Group}: a group needs at least 2 completions to compare");
        if (PromptsPerStep < 1) throw new ConfigurationException($"--prompts-per-step {PromptsPerStep}: must be positive");
        if (!(Clip >= 0 && Clip < 1)) throw new ConfigurationException($"--clip {Clip}: must be in [0, 1)");
        if (!(Beta >= 0) || double.IsInfinity(Beta)) throw new ConfigurationException($"--kl {Beta}: must be 0 or positive");
        if (UpdatesPerBatch < 1) throw new ConfigurationException($"--updates-per-batch {UpdatesPerBatch}: must be positive");
        ValidateSchedule();
        if (Rollout.MaxTokens < 1) throw new ConfigurationException($"--max-tokens {Rollout.MaxTokens}: must be positive");
        Rollout.SamplingOrDefault.Validated();
        return this;
    }
}
