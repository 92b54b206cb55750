using Dataflow.Engine.Compile;
using Dataflow.Graph.Dsl;

namespace Dataflow.Generation;

/// <summary>Everything <c>dataflow generate</c> was asked to do (the backend is the caller's).</summary>
public sealed record GenerationSettings
{
    public required string CheckpointPath { get; init; }

    /// <summary>A LoRA adapter trained on <see cref="CheckpointPath"/>; null: the checkpoint alone.</summary>
    public string? AdapterPath { get; init; }
    public string Prompt { get; init; } = "";

    /// <summary>Prompts to continue instead of <see cref="Prompt"/>, each with where it came from for errors ("p.txt line 3").</summary>
    public IReadOnlyList<(string Text, string Source)>? Prompts { get; init; }

    /// <summary>Continuations per prompt; sample i of all is drawn with seed <see cref="Seed"/> + i.</summary>
    public int NumSamples { get; init; } = 1;

    public IReadOnlyList<string> StopStrings { get; init; } = [];

    /// <summary>Sequences decoded together (cache slots); 0: as many as there are, up to 16.</summary>
    public int Batch { get; init; }

    public int PrefillChunk { get; init; } = 64;
    public int MaxTokens { get; init; } = 200;
    public SamplingOptions Sampling { get; init; } = new();
    public int Seed { get; init; } = 1;
    public CompileOptions CompileOptions { get; init; } = CompileOptions.Default;

    /// <summary>How the key/value caches store their values (<see cref="CacheStorage"/>).</summary>
    public CacheStorage Cache { get; init; }
}

/// <summary>How long a generation took: the prompt's prefill, then the generated tokens.</summary>
public sealed record GenerationStats(int PromptTokens, int GeneratedTokens, TimeSpan Prefill, TimeSpan Total)
{
    public double MillisecondsPerToken => (Total - Prefill).TotalMilliseconds / Math.Max(1, GeneratedTokens - 1);
}
