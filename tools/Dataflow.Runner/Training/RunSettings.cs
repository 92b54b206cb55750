using Dataflow.Engine.Compile;

namespace Dataflow.Runner.Training;

/// <summary>What every training run shares, whatever its examples: the model, the seed, where it checkpoints, how it reports.</summary>
public abstract record RunSettings
{
    public required string ModelPath { get; init; }
    public int Seed { get; init; } = 1;
    public string? Preset { get; init; }
    public string[] Overrides { get; init; } = [];
    public string? CheckpointPath { get; init; }
    public string? ResumePath { get; init; }
    public bool Json { get; init; }
    public string Backend { get; init; } = "cpu";
    public int Verbose { get; init; }
    public CompileOptions Compile { get; init; } = CompileOptions.Default;
}
