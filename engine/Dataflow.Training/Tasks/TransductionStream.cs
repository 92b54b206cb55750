using Dataflow.Engine.Data;

namespace Dataflow.Training.Tasks;

/// <summary>
/// The training examples of a task: an endless seeded stream, one source length per batch (drawn
/// uniformly), skipping every source of the held-out set. Its random state goes into checkpoints,
/// so a resumed run sees the batches the uninterrupted run would have.
/// </summary>
public sealed class TransductionStream
{
    private readonly ITransductionTask _task;
    private readonly HeldOutSet _heldOut;
    private readonly SeededRandom _random;

    public TransductionStream(ITransductionTask task, HeldOutSet heldOut, ulong seed)
    {
        if (!ReferenceEquals(heldOut.Task, task) && heldOut.Task.Name != task.Name)
            throw new ArgumentException($"the held-out set is for {heldOut.Task.Name}, not {task.Name}", nameof(heldOut));
        (_task, _heldOut) = (task, heldOut);
        // Mixed so that no --seed reproduces the held-out set's stream.
        _random = new SeededRandom(seed * 0x9E3779B97F4A7C15UL + 0x7A1C_5EED);
    }

    /// <summary>Sources skipped because the held-out set has them (for tests and curiosity).</summary>
    public long Skipped { get; private set; }

    /// <summary><paramref name="count"/> examples that share one source length.</summary>
    public TransductionSample[] NextBatch(int count)
    {
        int length = _task.DrawLength(_random);
        var batch = new TransductionSample[count];
        for (int i = 0; i < count; i++)
        {
            var sample = _task.Sample(_random, length);
            while (_heldOut.Contains(sample.Source)) { Skipped++; sample = _task.Sample(_random, length); }
            batch[i] = sample;
        }
        return batch;
    }

    public byte[] GetState() => _random.GetState();
    public void SetState(ReadOnlySpan<byte> state) => _random.SetState(state);
}
