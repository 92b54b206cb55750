using Dataflow.Engine.Jobs;

namespace Dataflow.Tests.Ecs;

public class JobSystemTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(100_000, 7)]
    [InlineData(1000, 1000)]
    [InlineData(9, 4)]
    public void CoversEveryIndexExactlyOnce(int count, int minChunk)
    {
        using var jobs = new JobSystem(4);
        var hits = new int[count];
        int ranges = 0;
        jobs.ParallelFor(count, minChunk, (start, end) =>
        {
            Interlocked.Increment(ref ranges);
            if (end != count) Assert.True(end - start >= minChunk);
            for (int i = start; i < end; i++) Interlocked.Increment(ref hits[i]);
        });
        Assert.All(hits, h => Assert.Equal(1, h));
        Assert.InRange(ranges, 1, (count + minChunk - 1) / minChunk);
    }

    [Fact]
    public void UsesMoreThanOneThreadForLargeLoops()
    {
        using var jobs = new JobSystem(4);
        var threads = new System.Collections.Concurrent.ConcurrentDictionary<int, bool>();
        jobs.ParallelFor(64, 1, (start, end) =>
        {
            threads[Environment.CurrentManagedThreadId] = true;
            Thread.Sleep(20);
        });
        Assert.True(threads.Count > 1);
    }

    [Fact]
    public void ExceptionsPropagateWithTheirTypeAndTheSystemStaysUsable()
    {
        using var jobs = new JobSystem(4);
        var ex = Assert.Throws<InvalidOperationException>(() =>
            jobs.ParallelFor(10_000, 10, (start, end) => { if (start <= 5000 && 5000 < end) throw new InvalidOperationException("range failed"); }));
        Assert.Equal("range failed", ex.Message);

        int sum = 0;
        jobs.ParallelFor(1000, 10, (start, end) => Interlocked.Add(ref sum, end - start));
        Assert.Equal(1000, sum);
    }

    [Fact]
    public void NestedCallsRunInlineOnTheCallingThreadOverTheRangesAParallelLoopWouldTake()
    {
        using var jobs = new JobSystem(4);
        var parallelRanges = new System.Collections.Concurrent.ConcurrentBag<(int, int)>();
        jobs.ParallelFor(500, 10, (start, end) => parallelRanges.Add((start, end)));
        var expected = parallelRanges.Order().ToArray();
        Assert.True(expected.Length > 1);

        bool allInline = true, allInOrder = true;
        int outerRanges = 0;
        jobs.ParallelFor(32, 1, (start, end) =>
        {
            Interlocked.Increment(ref outerRanges);
            int outerThread = Environment.CurrentManagedThreadId;
            var inner = new List<(int, int)>();
            jobs.ParallelFor(500, 10, (innerStart, innerEnd) =>
            {
                if (Environment.CurrentManagedThreadId != outerThread) allInline = false;
                inner.Add((innerStart, innerEnd));
            });
            // A kernel started inside a job must split its work as it would alone, so its result does not change.
            if (!inner.SequenceEqual(expected)) allInOrder = false;
        });
        Assert.True(allInline);
        Assert.True(allInOrder);
        Assert.InRange(outerRanges, 1, 32);
    }

    [Fact]
    public void DisposedSystemRefusesWork()
    {
        var jobs = new JobSystem(2);
        jobs.Dispose();
        Assert.Throws<ObjectDisposedException>(() => jobs.ParallelFor(10, 1, (_, _) => { }));
    }
}
