using System.Buffers.Binary;

namespace Dataflow.Engine.Data;

/// <summary>
/// Walks a data set in mini-batches, epoch after epoch, copying each batch into buffers the caller
/// owns (no allocation per batch). Training order is reshuffled each epoch from a seeded generator;
/// its state (<see cref="GetState"/>) goes into a checkpoint so a resumed run sees the same batches.
/// <code>
/// while (batches.TryNext(x, y, out int n)) { ... }   // one epoch; the next call starts the next one
/// </code>
/// </summary>
public sealed class BatchIterator
{
    private const byte StateVersion = 1;
    private const int StateSize = 1 + 4 + 4 + 1 + 4 + 4 + SeededRandom.StateSize;

    private readonly SeededRandom _random;
    private readonly int[] _order;
    private byte[] _epochStartState;
    private int _position;

    public BatchIterator(Dataset data, int batchSize, bool shuffle, bool dropLast, ulong seed = 0)
    {
        // A user's choice, not a bug: named so the caller can say what to change.
        if (batchSize <= 0) throw new DataException($"the batch size must be positive, got {batchSize}");
        if (dropLast && data.Count < batchSize)
            throw new DataException($"a batch of {batchSize} examples is larger than the data set ({data.Count} examples); choose a batch of at most {data.Count}");
        Data = data;
        BatchSize = batchSize;
        Shuffles = shuffle;
        DropsLast = dropLast;
        _random = new SeededRandom(seed);
        _order = new int[data.Count];
        _epochStartState = _random.GetState();
        PrepareEpoch();
    }

    /// <summary>Shuffled, and the last partial batch dropped so every step sees a full batch.</summary>
    public static BatchIterator ForTraining(Dataset data, int batchSize, ulong seed) => new(data, batchSize, shuffle: true, dropLast: true, seed);

    /// <summary>In order, every example once, the last batch possibly short.</summary>
    public static BatchIterator ForEvaluation(Dataset data, int batchSize) => new(data, batchSize, shuffle: false, dropLast: false);

    public Dataset Data { get; }
    public int BatchSize { get; }
    public bool Shuffles { get; }
    public bool DropsLast { get; }

    /// <summary>The 0-based epoch that the next batch belongs to.</summary>
    public int Epoch { get; private set; }

    public int BatchesPerEpoch => DropsLast ? Data.Count / BatchSize : (Data.Count + BatchSize - 1) / BatchSize;

    private int EpochEnd => DropsLast ? Data.Count / BatchSize * BatchSize : Data.Count;

    /// <summary>
    /// Copies the next batch into <paramref name="features"/> (at least BatchSize × FeatureWidth) and
    /// <paramref name="labels"/> (at least BatchSize). Returns false, writing nothing, when the epoch
    /// is over; the following call starts the next epoch.
    /// </summary>
    public bool TryNext(Span<float> features, Span<int> labels, out int count)
    {
        int width = Data.FeatureWidth;
        if (features.Length < BatchSize * width || labels.Length < BatchSize)
            throw new ArgumentException($"a batch needs room for {BatchSize} × {width} features and {BatchSize} labels");

        int end = EpochEnd;
        if (_position >= end)
        {
            Epoch++;
            _epochStartState = _random.GetState();
            PrepareEpoch();
            count = 0;
            return false;
        }

        count = Math.Min(BatchSize, end - _position);
        for (int i = 0; i < count; i++)
        {
            int example = _order[_position + i];
            Data.FeaturesOf(example).CopyTo(features.Slice(i * width, width));
            labels[i] = Data.Labels[example];
        }
        _position += count;
        return true;
    }

    /// <summary>
    /// Epoch, position and the generator state from the start of the epoch: restoring reshuffles
    /// from that state, which rebuilds the same order without storing it.
    /// </summary>
    public byte[] GetState()
    {
        var state = new byte[StateSize];
        var span = state.AsSpan();
        span[0] = StateVersion;
        BinaryPrimitives.WriteInt32LittleEndian(span[1..], Data.Count);
        BinaryPrimitives.WriteInt32LittleEndian(span[5..], BatchSize);
        span[9] = (byte)((Shuffles ? 1 : 0) | (DropsLast ? 2 : 0));
        BinaryPrimitives.WriteInt32LittleEndian(span[10..], Epoch);
        BinaryPrimitives.WriteInt32LittleEndian(span[14..], _position);
        _epochStartState.CopyTo(span[18..]);
        return state;
    }

    /// <summary>Continues from a state saved by an iterator over the same data with the same settings.</summary>
    public void SetState(ReadOnlySpan<byte> state)
    {
        if (state.Length != StateSize || state[0] != StateVersion)
            throw new DataException($"the saved data order is not a batch iterator state this build reads ({state.Length} bytes)");
        int count = BinaryPrimitives.ReadInt32LittleEndian(state[1..]);
        int batchSize = BinaryPrimitives.ReadInt32LittleEndian(state[5..]);
        int flags = state[9];
        if (count != Data.Count || batchSize != BatchSize || flags != ((Shuffles ? 1 : 0) | (DropsLast ? 2 : 0)))
            throw new DataException(
                $"the saved data order is for {count} examples in batches of {batchSize}; this run has {Data.Count} in batches of {BatchSize}");
        int epoch = BinaryPrimitives.ReadInt32LittleEndian(state[10..]);
        int position = BinaryPrimitives.ReadInt32LittleEndian(state[14..]);
        if (epoch < 0 || position < 0 || position > EpochEnd)
            throw new DataException($"the saved data order is corrupted (epoch {epoch}, position {position})");

        _random.SetState(state[18..]);
        _epochStartState = state[18..].ToArray();
        Epoch = epoch;
        PrepareEpoch();
        _position = position;
    }

    /// <summary>Resets the order to 0..N-1 before shuffling, so an epoch's order depends only on the generator state.</summary>
    private void PrepareEpoch()
    {
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        if (Shuffles) _random.Shuffle(_order.AsSpan());
        _position = 0;
    }
}
