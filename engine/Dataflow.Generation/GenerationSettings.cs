using Dataflow.Engine.Compile;

namespace Dataflow.Generation;

/// <summary>Everything <c>dataflow generate</c> was asked to do (the backend is the caller's).</summary>
public sealed record GenerationSettings
{
    public required string CheckpointPath { get; init; }
    public string Prompt { get; init; } = "";
    public int MaxTokens { get; init; } = 200;
    public SamplingOptions Sampling { get; init; } = new();
    public int Seed { get; init; } = 1;
    public CompileOptions CompileOptions { get; init; } = CompileOptions.Default;
}

/// <summary>How long a generation took: the prompt's prefill, then the generated tokens.</summary>
public sealed record GenerationStats(int PromptTokens, int GeneratedTokens, TimeSpan Prefill, TimeSpan Total)
{
    public double MillisecondsPerToken => (Total - Prefill).TotalMilliseconds / Math.Max(1, GeneratedTokens - 1);
}
