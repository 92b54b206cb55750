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
    public void NestedCallsRunInlineOnTheCallingThread()
    {
        using var jobs = new JobSystem(4);
        int innerCalls = 0;
        bool allInline = true;
        jobs.ParallelFor(32, 1, (start, end) =>
        {
            int outerThread = Environment.CurrentManagedThreadId;
            jobs.ParallelFor(500, 1, (innerStart, innerEnd) =>
            {
                Interlocked.Increment(ref innerCalls);
                if (Environment.CurrentManagedThreadId != outerThread || innerStart != 0 || innerEnd != 500) allInline = false;
            });
        });
        Assert.True(allInline);
        // One inline call, covering the whole inner range, per outer range.
        Assert.InRange(innerCalls, 1, 32);
    }

    [Fact]
    public void DisposedSystemRefusesWork()
    {
        var jobs = new JobSystem(2);
        jobs.Dispose();
        Assert.Throws<ObjectDisposedException>(() => jobs.ParallelFor(10, 1, (_, _) => { }));
    }
}
