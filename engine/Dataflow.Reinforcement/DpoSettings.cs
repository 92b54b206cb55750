using Dataflow.Engine;

namespace Dataflow.Reinforcement;

/// <summary>A DPO run (TRL's DPOTrainer with precomputed reference log-probabilities): pairs per step, β, the schedule, where it starts and writes.</summary>
public sealed record DpoSettings
{
    public double Beta { get; init; } = 0.1;
    public int PairsPerStep { get; init; } = 8;
    public int Seed { get; init; } = 1;
    public long Steps { get; init; } = 100;
    public long EvalEvery { get; init; } = 10;
    public double? LearningRate { get; init; }

    /// <summary>The policy to start from, which is also the frozen reference (an SFT checkpoint); null: the model's initialisation.</summary>
    public string? FromCheckpoint { get; init; }
    public string? CheckpointPath { get; init; }
    public string? ResumePath { get; init; }

    public DpoSettings Validated()
    {
        if (!(Beta > 0) || double.IsInfinity(Beta)) throw new ConfigurationException($"--beta {Beta}: must be positive");
        if (PairsPerStep < 1) throw new ConfigurationException($"--batch {PairsPerStep}: must be positive");
        if (Steps < 1 || EvalEvery < 1) throw new ConfigurationException($"--steps {Steps} and --eval-every {EvalEvery} must be positive");
        return this;
    }
}
