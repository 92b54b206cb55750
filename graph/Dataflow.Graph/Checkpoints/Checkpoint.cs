namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// Everything needed to resume training exactly where it stopped: parameters, optimizer state and
/// the trainer's random state, plus a header that says which model and step the file belongs to.
/// </summary>
public sealed class Checkpoint
{
    public required CheckpointHeader Header { get; init; }

    /// <summary>Model parameters, by name, in the model's parameter order.</summary>
    public required IReadOnlyList<NamedTensor> Tensors { get; init; }

    /// <summary>Optimizer slots named after their parameter, e.g. "l1.weight/m" and "l1.weight/v".</summary>
    public required IReadOnlyList<NamedTensor> OptimizerState { get; init; }

    /// <summary>Opaque to the checkpoint: the trainer's RNG and data-order state.</summary>
    public required byte[] RngState { get; init; }

    /// <summary>The tokenizer's own JSON, for language models; null when the model has none.</summary>
    public string? TokenizerJson { get; init; }
}
