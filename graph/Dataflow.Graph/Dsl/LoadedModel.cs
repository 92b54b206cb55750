using Dataflow.Graph.Ir;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// How to load a model: which preset, which <c>--set name=value</c> overrides, and whether to build
/// for training (dropout on). <paramref name="CacheLength"/> selects decode mode (key/value cache,
/// see graph/README.md): causal attention reads and writes a cache of that many positions, fed as
/// inputs <c>cache.SCOPE.k</c>/<c>.v</c> and returned as outputs of the same names, and the tokens
/// fed are those at <c>position</c>, <c>position + 1</c>, …. Decode mode is for inference only.
/// </summary>
public sealed record ModelOptions(string? Preset = null, IReadOnlyDictionary<string, string>? Overrides = null, bool Training = true, int? CacheLength = null)
{
    /// <summary>
    /// Lower for counting only (<c>inspect</c>): <c>repeat(n, block, …)</c> lowers its first copy and
    /// counts the other n − 1 (<see cref="ComputeGraph.RepeatedCopies"/>) instead of building them, so
    /// a 10⁶-layer or GPT-3-sized model answers at once. The graph is then not for running.
    /// </summary>
    public bool CountOnly { get; init; }
}

/// <summary>The optimizer, schedule and other training numbers a model file suggests; the runner's flags may override them.</summary>
public sealed record TrainingDefaults(
    string Optimizer,
    IReadOnlyDictionary<string, double> OptimizerArgs,
    string Schedule,
    IReadOnlyDictionary<string, double> ScheduleArgs,
    IReadOnlyDictionary<string, double> TrainArgs);

/// <summary>A model file lowered to a graph, with everything else the file declared.</summary>
public sealed class LoadedModel
{
    public required ComputeGraph Graph { get; init; }
    public required string Name { get; init; }
    public required string SourcePath { get; init; }

    /// <summary>Model parameters after defaults, the preset and overrides.</summary>
    public required IReadOnlyDictionary<string, double> Settings { get; init; }

    /// <summary>Preset names in the order the file declares them.</summary>
    public required IReadOnlyList<string> Presets { get; init; }

    public required TrainingDefaults Training { get; init; }
}
