using System.Runtime.ExceptionServices;

namespace Dataflow.Engine.Jobs;

/// <summary>
/// Runs parallel-for loops over index ranges on a fixed set of worker threads. The CPU backend's
/// kernels and the ECS schedule's parallel stages both go through here, so the process never
/// oversubscribes its cores. The calling thread takes a share of the work, and a loop started from
/// inside a job runs inline (no nested parallelism, no deadlock).
/// </summary>
public sealed class JobSystem : IDisposable
{
    private static readonly Lazy<JobSystem> SharedInstance = new(() => new JobSystem(Environment.ProcessorCount));

    /// <summary>The process-wide instance, one worker per core.</summary>
    public static JobSystem Shared => SharedInstance.Value;

    [ThreadStatic] private static bool _insideJob;

    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _wake;
    private Action<int, int>? _body;
    private int _count;
    private int _chunk;
    private int _nextRange;
    private int _pending;
    private ManualResetEventSlim _done = new(false);
    private Exception? _failure;
    private volatile bool _disposed;

    public JobSystem(int workerCount)
    {
        WorkerCount = Math.Max(1, workerCount);
        _wake = new SemaphoreSlim(0);
        // The caller works too, so spawn one thread fewer than the parallelism wanted.
        _workers = new Thread[WorkerCount - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"dataflow-worker-{i}" };
            _workers[i].Start();
        }
    }

    public int WorkerCount { get; }

    /// <summary>
    /// Calls <paramref name="body"/>(start, end) over disjoint ranges covering [0, count), each at
    /// least <paramref name="minChunk"/> long (except the last). Returns when all ranges are done;
    /// the first exception thrown by a range is rethrown here, with its original type and stack,
    /// and ranges not yet started when it was thrown are skipped.
    /// </summary>
    public void ParallelFor(int count, int minChunk, Action<int, int> body)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (count <= 0) return;
        minChunk = Math.Max(1, minChunk);
        if (_insideJob || _workers.Length == 0 || count <= minChunk)
        {
            body(0, count);
            return;
        }

        lock (_gate) // one loop at a time; callers from other threads queue here
        {
            int chunks = Math.Min((count + minChunk - 1) / minChunk, WorkerCount * 4);
            // Rounding the range count down can leave ranges shorter than asked for; never go below it.
            _chunk = Math.Max(minChunk, (count + chunks - 1) / chunks);
            _count = count;
            _body = body;
            _nextRange = 0;
            _failure = null;
            _pending = WorkerCount;
            _done.Reset();
            _wake.Release(_workers.Length);
            RunRanges();
            _done.Wait();
            _body = null;
            if (_failure is not null) ExceptionDispatchInfo.Capture(_failure).Throw();
        }
    }

    private void RunRanges()
    {
        var body = _body!;
        bool wasInside = _insideJob;
        _insideJob = true;
        try
        {
            // Hand out range indices, not start offsets: every thread overshoots once at the end, and
            // start offsets near int.MaxValue would overflow.
            while (Volatile.Read(ref _failure) is null)
            {
                long start = (long)(Interlocked.Increment(ref _nextRange) - 1) * _chunk;
                if (start >= _count) break;
                try { body((int)start, (int)Math.Min(start + _chunk, _count)); }
                catch (Exception e) { Interlocked.CompareExchange(ref _failure, e, null); }
            }
        }
        finally
        {
            _insideJob = wasInside;
            if (Interlocked.Decrement(ref _pending) == 0) _done.Set();
        }
    }

    private void WorkerLoop()
    {
        while (true)
        {
            _wake.Wait();
            if (_disposed) return;
            RunRanges();
        }
    }

    public void Dispose()
    {
        _disposed = true;
        _wake.Release(_workers.Length);
    }
}
