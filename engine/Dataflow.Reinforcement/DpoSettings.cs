using Dataflow.Engine;

namespace Dataflow.Reinforcement;

/// <summary>A DPO run (TRL's DPOTrainer with precomputed reference log-probabilities): pairs per step and β; the starting policy is also the frozen reference.</summary>
public sealed record DpoSettings : PostTrainingSettings
{
    public double Beta { get; init; } = 0.1;
    public int PairsPerStep { get; init; } = 8;

    public DpoSettings Validated()
    {
        if (!(Beta > 0) || double.IsInfinity(Beta)) throw new ConfigurationException($"--beta {Beta}: must be positive");
        if (PairsPerStep < 1) throw new ConfigurationException($"--batch {PairsPerStep}: must be positive");
        ValidateSchedule();
        return this;
    }
}
