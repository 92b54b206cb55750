using Dataflow.Engine.Compile;

namespace Dataflow.Runner.Generation;

/// <summary>Everything <c>dataflow generate</c> was asked to do.</summary>
public sealed record GenerationSettings
{
    public required string CheckpointPath { get; init; }
    public string Prompt { get; init; } = "";
    public int MaxTokens { get; init; } = 200;
    public SamplingOptions Sampling { get; init; } = new();
    public int Seed { get; init; } = 1;
    public string Backend { get; init; } = "cpu";
    public int Verbose { get; init; }
    public CompileOptions CompileOptions { get; init; } = CompileOptions.Default;
}
