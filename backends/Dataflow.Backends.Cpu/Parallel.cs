using Dataflow.Engine.Jobs;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// Every loop of the backend goes through the shared job system; this only picks chunk sizes so
/// that a chunk carries enough work to be worth handing to another core (a wake-up costs microseconds).
/// </summary>
internal static class Par
{
    /// <summary>About this many simple element operations per chunk before splitting pays off.</summary>
    public const long GrainOps = 32 * 1024;

    /// <summary>Set inside <see cref="Serial"/>: loops on this thread run inline, as on a one-core machine.</summary>
    [ThreadStatic] private static bool _serial;

    public static void For(int count, long opsPerItem, Action<int, int> body)
    {
        if (count <= 0) return;
        if (_serial)
        {
            body(0, count);
            return;
        }
        long minChunk = Math.Max(1, GrainOps / Math.Max(1, opsPerItem));
        JobSystem.Shared.ParallelFor(count, (int)Math.Min(minChunk, int.MaxValue), body);
    }

    /// <summary>
    /// <see cref="For(int, long, Action{int, int})"/> for a static body over a state struct: a loop small
    /// enough to run inline (most of a decode step's, one token wide) allocates nothing; only one handed
    /// to other cores wraps its state in a closure.
    /// </summary>
    public static void For<TState>(int count, long opsPerItem, in TState state, Action<TState, int, int> body) where TState : struct
    {
        if (count <= 0) return;
        long minChunk = Math.Max(1, GrainOps / Math.Max(1, opsPerItem));
        if (_serial || count <= minChunk || JobSystem.Shared.WorkerCount == 1)
        {
            body(state, 0, count);
            return;
        }
        var copy = state;
        JobSystem.Shared.ParallelFor(count, (int)Math.Min(minChunk, int.MaxValue), (first, last) => body(copy, first, last));
    }

    public static int Workers => _serial ? 1 : JobSystem.Shared.WorkerCount;

    /// <summary>Runs <paramref name="action"/> with every backend loop on the calling thread (single-thread benchmarks).</summary>
    public static void Serial(Action action)
    {
        bool was = _serial;
        _serial = true;
        try { action(); }
        finally { _serial = was; }
    }
}
