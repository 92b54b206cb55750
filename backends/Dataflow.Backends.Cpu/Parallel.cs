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
    /// <see cref="For(int, long, Action{int, int})"/> for a static body over a state struct, allocation-free:
    /// a loop small enough runs inline, and one handed to other cores goes through this thread's
    /// <see cref="Launch{TState}"/> for the state's type, reused from launch to launch.
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
        // A body that starts a loop of the same state type while its own is running gets a fresh launch.
        var launch = Launch<TState>.Idle is { } idle ? idle : new Launch<TState>();
        Launch<TState>.Idle = null;
        launch.Set(state, body);
        try
        {
            JobSystem.Shared.ParallelFor(count, (int)Math.Min(minChunk, int.MaxValue), launch.Run);
        }
        finally
        {
            launch.Set(default, null);
            Launch<TState>.Idle = launch;
        }
    }

    /// <summary>A body and its state bound into one delegate that outlives the launch, so a parallel loop allocates nothing.</summary>
    private sealed class Launch<TState> where TState : struct
    {
        [ThreadStatic] public static Launch<TState>? Idle;

        private TState _state;
        private Action<TState, int, int>? _body;

        public Launch() => Run = Execute;

        public Action<int, int> Run { get; }

        public void Set(in TState state, Action<TState, int, int>? body) => (_state, _body) = (state, body);

        private void Execute(int first, int last) => _body!(_state, first, last);
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
