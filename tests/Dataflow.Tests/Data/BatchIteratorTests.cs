using Dataflow.Engine.Data;

namespace Dataflow.Tests.Data;

public sealed class BatchIteratorTests
{
    /// <summary>Example i has features [i, -i] and label i, so a batch shows which examples it holds.</summary>
    private static Dataset Numbered(int count) =>
        new(Enumerable.Range(0, count).SelectMany(i => new float[] { i, -i }).ToArray(), Enumerable.Range(0, count).ToArray(), 2);

    /// <summary>The labels of each batch of one epoch, checking the features belong to the same examples.</summary>
    private static List<int[]> Epoch(BatchIterator batches)
    {
        var x = new float[batches.BatchSize * 2];
        var y = new int[batches.BatchSize];
        var epoch = new List<int[]>();
        while (batches.TryNext(x, y, out int n))
        {
            for (int i = 0; i < n; i++) Assert.Equal(new float[] { y[i], -y[i] }, x[(2 * i)..(2 * i + 2)]);
            epoch.Add(y[..n]);
        }
        return epoch;
    }

    [Fact]
    public void TrainingCoversEveryExampleOncePerEpochAndDropsThePartialBatch()
    {
        var batches = BatchIterator.ForTraining(Numbered(10), batchSize: 3, seed: 1);

        for (int epoch = 0; epoch < 3; epoch++)
        {
            Assert.Equal(epoch, batches.Epoch);
            var seen = Epoch(batches);
            Assert.Equal(3, seen.Count);
            Assert.All(seen, batch => Assert.Equal(3, batch.Length));
            var all = seen.SelectMany(b => b).ToArray();
            Assert.Equal(9, all.Distinct().Count());
        }
    }

    [Fact]
    public void TrainingUsesEveryExampleWhenTheBatchesDivideTheSet()
    {
        var batches = BatchIterator.ForTraining(Numbered(12), batchSize: 4, seed: 5);

        Assert.Equal(Enumerable.Range(0, 12), Epoch(batches).SelectMany(b => b).Order());
        Assert.Equal(Enumerable.Range(0, 12), Epoch(batches).SelectMany(b => b).Order());
    }

    [Fact]
    public void EvaluationIsInOrderAndKeepsTheLastPartialBatch()
    {
        var batches = BatchIterator.ForEvaluation(Numbered(10), batchSize: 4);

        var seen = Epoch(batches);

        Assert.Equal(3, batches.BatchesPerEpoch);
        Assert.Equal([4, 4, 2], seen.Select(b => b.Length));
        Assert.Equal(Enumerable.Range(0, 10), seen.SelectMany(b => b));
        Assert.Equal(Enumerable.Range(0, 10), Epoch(batches).SelectMany(b => b));
    }

    [Fact]
    public void SameSeedSameOrderOtherSeedOtherOrder()
    {
        var a = BatchIterator.ForTraining(Numbered(50), 5, seed: 42);
        var b = BatchIterator.ForTraining(Numbered(50), 5, seed: 42);
        var c = BatchIterator.ForTraining(Numbered(50), 5, seed: 43);

        var epochA = Epoch(a).SelectMany(x => x).ToArray();
        Assert.Equal(epochA, Epoch(b).SelectMany(x => x));
        Assert.NotEqual(epochA, Epoch(c).SelectMany(x => x));
        Assert.NotEqual(epochA, Epoch(a).SelectMany(x => x)); // each epoch reshuffles
    }

    [Theory]
    [InlineData(0)]  // at the start
    [InlineData(4)]  // mid-epoch
    [InlineData(10)] // on an epoch boundary (10 batches per epoch)
    [InlineData(23)] // mid-epoch, later
    public void RestoredStateContinuesExactly(int batchesBeforeSave)
    {
        var original = BatchIterator.ForTraining(Numbered(53), batchSize: 5, seed: 9);
        var x = new float[10];
        var y = new int[5];
        for (int i = 0; i < batchesBeforeSave; i++)
            if (!original.TryNext(x, y, out _)) i--; // an epoch ended: that call was no batch
        byte[] state = original.GetState();

        var resumed = BatchIterator.ForTraining(Numbered(53), batchSize: 5, seed: 12345);
        resumed.SetState(state);

        Assert.Equal(original.Epoch, resumed.Epoch);
        for (int i = 0; i < 40; i++)
        {
            var yo = new int[5];
            var yr = new int[5];
            bool more = original.TryNext(x, yo, out int no);
            Assert.Equal(more, resumed.TryNext(x, yr, out int nr));
            Assert.Equal(no, nr);
            Assert.Equal(yo, yr);
        }
    }

    [Fact]
    public void StateForOtherDataOrBatchSizeIsRefused()
    {
        byte[] state = BatchIterator.ForTraining(Numbered(20), 4, seed: 1).GetState();

        var error = Assert.Throws<DataException>(() => BatchIterator.ForTraining(Numbered(21), 4, seed: 1).SetState(state));
        Assert.Equal("the saved data order is for 20 examples in batches of 4; this run has 21 in batches of 4", error.Message);
        Assert.Throws<DataException>(() => BatchIterator.ForTraining(Numbered(20), 5, seed: 1).SetState(state));
        Assert.Throws<DataException>(() => BatchIterator.ForTraining(Numbered(20), 4, seed: 1).SetState(state[..^1]));
    }

    [Fact]
    public void BatchesAllocateNothing()
    {
        var batches = BatchIterator.ForTraining(Numbered(1000), 10, seed: 2);
        var x = new float[20];
        var y = new int[10];
        batches.TryNext(x, y, out _);

        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 50; i++) batches.TryNext(x, y, out _);

        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
    }

    [Fact]
    public void TooSmallBuffersAndTooSmallSetsAreRefused()
    {
        var batches = BatchIterator.ForTraining(Numbered(10), 4, seed: 1);

        Assert.Throws<ArgumentException>(() => batches.TryNext(new float[7], new int[4], out _));
        Assert.Equal("a batch of 4 examples is larger than the data set (3 examples); choose a batch of at most 3",
            Assert.Throws<DataException>(() => BatchIterator.ForTraining(Numbered(3), 4, seed: 1)).Message);
        Assert.Throws<DataException>(() => BatchIterator.ForTraining(Numbered(3), int.MaxValue, seed: 1));
        Assert.Throws<DataException>(() => BatchIterator.ForEvaluation(Numbered(3), 0));
    }
}
