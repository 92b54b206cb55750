namespace Dataflow.Engine.Data;

/// <summary>Holds examples out of a training set for validation, so the test set is touched only by eval.</summary>
public static class DatasetSplit
{
    /// <summary>
    /// Shuffles the example indices with <paramref name="seed"/> and takes the last
    /// <paramref name="heldOutCount"/> as the held-out set. Both parts keep the original order of their
    /// examples, so the split decides only which examples go where; the batch iterator decides order.
    /// </summary>
    public static (Dataset Train, Dataset HeldOut) HoldOut(Dataset data, int heldOutCount, ulong seed)
    {
        if (heldOutCount < 0 || heldOutCount >= data.Count)
            throw new ArgumentOutOfRangeException(nameof(heldOutCount), $"cannot hold out {heldOutCount} of {data.Count} examples and still train");

        var indices = new int[data.Count];
        for (int i = 0; i < indices.Length; i++) indices[i] = i;
        new SeededRandom(seed).Shuffle(indices.AsSpan());

        int trainCount = data.Count - heldOutCount;
        var train = indices.AsSpan(0, trainCount);
        var heldOut = indices.AsSpan(trainCount);
        train.Sort();
        heldOut.Sort();
        return (data.Select(train), data.Select(heldOut));
    }
}
