namespace Dataflow.Mpi.Tests;

public class GradientBucketerTests
{
    private static readonly int[] Lengths = [1, 5, 300, 7, 2049, 3, 64];

    private static float Own(long i) => (i % 101) * 0.37f - 11f;

    private static float Peer(long i) => (i % 89) * -0.53f + 7.25f;

    private static float[][] Gradients(int[] lengths)
    {
        long position = 0;
        return lengths.Select(n => Enumerable.Range(0, n).Select(_ => Own(position++)).ToArray()).ToArray();
    }

    private static Memory<float>[] AsMemory(float[][] gradients) => gradients.Select(g => new Memory<float>(g)).ToArray();

    [Theory]
    [InlineData(2)]
    [InlineData(4)]
    public void EveryGradientBecomesTheMeanOverRanks(int size)
    {
        var gradients = Gradients(Lengths);
        var fake = new FakeCommunicator(size, Peer);
        new GradientBucketer(fake, bucketBytes: 64 * sizeof(float)).AllReduceMean(AsMemory(gradients));

        long position = 0;
        foreach (var gradient in gradients)
        foreach (var value in gradient)
        {
            var expected = (Own(position) + (size - 1) * Peer(position)) / size;
            Assert.Equal(expected, value);
            position++;
        }
    }

    [Fact]
    public void BucketsAreFullCutsOfTheGradientsLaidEndToEnd()
    {
        var fake = new FakeCommunicator(2, Peer);
        var bucketer = new GradientBucketer(fake, bucketBytes: 64 * sizeof(float));
        bucketer.AllReduceMean(AsMemory(Gradients(Lengths)));

        // 2429 floats = 37 full buckets of 64 and a last one of 61, whatever the tensors' boundaries.
        int[] expected = [.. Enumerable.Repeat(64, 37), 61];
        Assert.Equal(expected, fake.ReducedLengths);
        var stats = bucketer.Statistics;
        Assert.Equal(expected.Length, stats.Buckets);
        Assert.Equal(Lengths.Sum() * sizeof(float), stats.BytesReduced);
        Assert.Equal(stats.BytesReduced, stats.LastCallBytes);
    }

    [Fact]
    public void ABucketInsideOneGradientIsReducedInPlaceAndOnlyOneSpanningSeveralIsCopied()
    {
        var gradients = Gradients([100, 30, 30]);
        var fake = new FakeCommunicator(2, Peer) { Watched = gradients };
        new GradientBucketer(fake, bucketBytes: 50 * sizeof(float)).AllReduceMean(AsMemory(gradients));
        // [0, 50) and [50, 100) of the first; 30 + 20 of the next two, staged; the last 10 of the third.
        Assert.Equal([50, 50, 50, 10], fake.ReducedLengths);
        Assert.Equal([true, true, false, true], fake.ReducedInPlace);
    }

    [Fact]
    public void SmallGradientsShareFullBucketsAcrossTensorBoundaries()
    {
        var fake = new FakeCommunicator(2, Peer);
        new GradientBucketer(fake, bucketBytes: 10 * sizeof(float)).AllReduceMean(AsMemory(Gradients([7, 7, 7, 3])));
        Assert.Equal([10, 10, 4], fake.ReducedLengths);
    }

    [Fact]
    public void StatisticsAccumulateOverCallsAndTheLastCallStandsAlone()
    {
        var bucketer = new GradientBucketer(new FakeCommunicator(2, Peer), bucketBytes: 16 * sizeof(float));
        bucketer.AllReduceMean(AsMemory(Gradients([40])));
        bucketer.AllReduceMean(AsMemory(Gradients([8, 0, 2])));
        var stats = bucketer.Statistics;
        Assert.Equal(2, stats.Calls);
        Assert.Equal((40 + 10) * sizeof(float), stats.BytesReduced);
        Assert.Equal(3 + 1, stats.Buckets);
        Assert.Equal(1, stats.LastCallBuckets);
        Assert.Equal(10 * sizeof(float), stats.LastCallBytes);
        Assert.True(stats.CommunicationTime >= stats.LastCallTime);
    }

    [Fact]
    public void OneProcessLeavesGradientsAloneAndSendsNothing()
    {
        var gradients = Gradients(Lengths);
        var before = gradients.Select(g => g.ToArray()).ToArray();
        var bucketer = new GradientBucketer(new SingleProcessCommunicator());
        bucketer.AllReduceMean(AsMemory(gradients));
        Assert.Equal(before, gradients);
        Assert.Equal(0, bucketer.Statistics.BytesReduced);
        Assert.Equal(1, bucketer.Statistics.Calls);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3)]
    public void ABucketSmallerThanOneFloatIsRefused(long bytes) =>
        Assert.Throws<ArgumentOutOfRangeException>(() => new GradientBucketer(new SingleProcessCommunicator(), bytes));
}
