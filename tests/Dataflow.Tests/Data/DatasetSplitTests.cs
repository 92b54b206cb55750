using Dataflow.Engine.Data;

namespace Dataflow.Tests.Data;

public sealed class DatasetSplitTests
{
    private static Dataset Numbered(int count) =>
        new(Enumerable.Range(0, count).Select(i => (float)i).ToArray(), Enumerable.Range(0, count).ToArray(), 1);

    [Fact]
    public void SplitIsDisjointAndCoversEveryExample()
    {
        var (train, heldOut) = DatasetSplit.HoldOut(Numbered(100), 15, seed: 3);

        Assert.Equal(85, train.Count);
        Assert.Equal(15, heldOut.Count);
        Assert.Empty(train.Labels.Intersect(heldOut.Labels));
        Assert.Equal(Enumerable.Range(0, 100), train.Labels.Concat(heldOut.Labels).Order());
        Assert.Equal(train.Labels.Select(l => (float)l), train.Features); // features travel with their labels
    }

    [Fact]
    public void SplitDependsOnlyOnTheSeedAndIsNotJustTheTail()
    {
        var (_, a) = DatasetSplit.HoldOut(Numbered(100), 10, seed: 3);
        var (_, b) = DatasetSplit.HoldOut(Numbered(100), 10, seed: 3);
        var (_, c) = DatasetSplit.HoldOut(Numbered(100), 10, seed: 4);

        Assert.Equal(a.Labels, b.Labels);
        Assert.NotEqual(a.Labels, c.Labels);
        Assert.NotEqual(Enumerable.Range(90, 10), a.Labels);
    }

    [Fact]
    public void HoldingOutEverythingIsRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => DatasetSplit.HoldOut(Numbered(10), 10, seed: 1));
    }
}
