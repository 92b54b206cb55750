using Dataflow.Engine.Data;

namespace Dataflow.Training;

/// <summary>A classification dataset's shuffled mini-batches, epoch after epoch, in buffers reused every step.</summary>
public sealed class ClassifierBatches : IBatchSource
{
    private readonly BatchIterator _iterator;
    private readonly float[] _features;
    private readonly int[] _labels;
    private readonly TrainingBatch _batch;

    public ClassifierBatches(Dataset data, ClassifierInputs inputs, string batchSymbol, int batchSize, ulong seed)
    {
        _iterator = BatchIterator.ForTraining(data, batchSize, seed);
        _features = new float[batchSize * data.FeatureWidth];
        _labels = new int[batchSize];
        _batch = new TrainingBatch(new Dictionary<string, long> { [batchSymbol] = batchSize },
            new Dictionary<string, Array> { [inputs.Features] = _features, [inputs.Labels] = _labels }, batchSize);
    }

    public int BatchesPerEpoch => _iterator.BatchesPerEpoch;

    public TrainingBatch Next()
    {
        // The call that finds the epoch over starts the next one.
        if (!_iterator.TryNext(_features, _labels, out _) && !_iterator.TryNext(_features, _labels, out _))
            throw new InvalidOperationException("an epoch with no full batch");
        return _batch;
    }

    public byte[] GetState() => _iterator.GetState();
    public void SetState(ReadOnlySpan<byte> state) => _iterator.SetState(state);
}
