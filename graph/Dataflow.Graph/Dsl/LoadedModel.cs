using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// How to load a model: which preset, which <c>--set name=value</c> overrides, and whether to build
/// for training (dropout on). <paramref name="CacheLength"/> selects decode mode (key/value cache,
/// see graph/README.md): causal attention keeps its keys and values in state tensors
/// <c>cache.SCOPE.k</c>/<c>.v</c> f32[slots, heads, L, dk] that the session holds on the device and
/// the graph updates in place; row b of the batch feeds its tokens at positions
/// <c>position[b]</c>, <c>position[b] + 1</c>, …. Without <paramref name="CacheSlots"/> row b is
/// cache slot b (the batched decode graph, compiled with B = the number of slots); with it the cache
/// has that many slots and row b writes and reads slot <c>slot[b]</c> (the prefill graph, B = 1).
/// Decode mode is for inference only.
/// </summary>
public sealed record ModelOptions(string? Preset = null, IReadOnlyDictionary<string, string>? Overrides = null, bool Training = true, int? CacheLength = null, int? CacheSlots = null)
{
    /// <summary>
    /// Lower for counting only (<c>inspect</c>): <c>repeat(n, block, …)</c> lowers its first copy and
    /// counts the other n − 1 (<see cref="ComputeGraph.RepeatedCopies"/>) instead of building them, so
    /// a 10⁶-layer or GPT-3-sized model answers at once. The graph is then not for running.
    /// </summary>
    public bool CountOnly { get; init; }

    /// <summary>
    /// Lower with LoRA adapters on the linears whose role <paramref name="Lora"/> targets, every other
    /// parameter frozen (graph/README.md, "LoRA"); null: the plain model, whatever the file declares.
    /// </summary>
    public LoraConfig? Lora { get; init; }

    /// <summary>Decode mode's key/value caches: f32 state tensors, or bf16 (<see cref="CacheStorage"/>); ignored outside decode mode.</summary>
    public CacheStorage Cache { get; init; }
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

    /// <summary>The file's <c>lora(...)</c> line: the defaults of a LoRA run of this model (<c>--lora</c>); null when it has none.</summary>
    public LoraSpec? DeclaredLora { get; init; }
}
