using Dataflow.Engine;

namespace Dataflow.Reinforcement;

/// <summary>A DPO run (TRL's DPOTrainer with precomputed reference log-probabilities): pairs per step, β and the RPO weight; the starting policy is also the frozen reference.</summary>
public sealed record DpoSettings : PostTrainingSettings
{
    public double Beta { get; init; } = 0.1;
    public int PairsPerStep { get; init; } = 8;

    /// <summary>TRL's <c>rpo_alpha</c>: the weight of the chosen replies' per-token NLL beside the DPO loss (0: plain DPO).</summary>
    public double RpoAlpha { get; init; }

    public DpoSettings Validated()
    {
        if (!(Beta > 0) || double.IsInfinity(Beta)) throw new ConfigurationException($"--beta {Beta}: must be positive");
        if (!(RpoAlpha >= 0) || double.IsInfinity(RpoAlpha)) throw new ConfigurationException($"--rpo-alpha {RpoAlpha}: must be 0 or more");
        if (PairsPerStep < 1) throw new ConfigurationException($"--batch {PairsPerStep}: must be positive");
        ValidateSchedule();
        return this;
    }
}
