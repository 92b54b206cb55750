namespace Dataflow.Training;

/// <summary>
/// One training step's examples: the dimension values the step is compiled for, the inputs by name,
/// and how much they hold (for throughput). A source whose shape never changes returns the same
/// <see cref="Bindings"/> instance every time, so the trainer compiles once.
/// </summary>
public sealed record TrainingBatch(IReadOnlyDictionary<string, long> Bindings, IReadOnlyDictionary<string, Array> Inputs, int Examples, long Tokens = 0)
{
    /// <summary>What the source measured while making the batch (an RL rollout's mean reward), passed on in the step's <see cref="StepReport.Metrics"/>.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Metrics { get; init; } = [];
}

/// <summary>
/// Where a <see cref="Trainer"/>'s batches come from, endlessly (epochs, if any, are the source's
/// business). Its random state goes into every checkpoint, so a resumed run sees the batches the
/// uninterrupted run would have.
/// </summary>
public interface IBatchSource
{
    TrainingBatch Next();
    byte[] GetState();
    void SetState(ReadOnlySpan<byte> state);
}
