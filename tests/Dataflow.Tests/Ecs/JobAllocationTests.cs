using Dataflow.Engine.Jobs;

namespace Dataflow.Tests.Ecs;

/// <summary>
/// A parallel-for allocates nothing on the calling thread once its body is a cached delegate: the
/// job system reuses its loop records (it used to make one per loop, and a step launches hundreds).
/// </summary>
public class JobAllocationTests
{
    [Fact]
    public void A_parallel_for_with_a_cached_body_allocates_nothing()
    {
        using var jobs = new JobSystem(2);
        var sums = new long[64];
        Action<int, int> body = (start, end) =>
        {
            for (int i = start; i < end; i++) sums[i] += i;
        };
        for (int i = 0; i < 50; i++) jobs.ParallelFor(sums.Length, 1, body); // warm: JIT, thread start
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int i = 0; i < 1000; i++) jobs.ParallelFor(sums.Length, 1, body);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.Equal(0, allocated);
        // Every range ran exactly once per loop: the reused records hand out each range once.
        for (int i = 0; i < sums.Length; i++) Assert.Equal(1050L * i, sums[i]);
    }
}
