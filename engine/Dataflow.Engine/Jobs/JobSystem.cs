using System.Diagnostics;
using System.Runtime.ExceptionServices;

namespace Dataflow.Engine.Jobs;

/// <summary>
/// Runs parallel-for loops over index ranges on a fixed set of worker threads. The CPU backend's
/// kernels and the ECS schedule's parallel stages both go through here, so the process never
/// oversubscribes its cores. The calling thread takes a share of the work, and a loop started from
/// inside a job runs inline (no nested parallelism, no deadlock).
/// </summary>
/// <remarks>
/// A training step launches hundreds of small loops, so the fixed cost per loop matters more than
/// raw throughput. Two things keep it low:
/// <list type="bullet">
/// <item>A loop is finished when its ranges are, not when every worker has checked in: the caller
/// takes ranges too, and if it takes the last one it returns without waiting for a worker that has
/// not woken yet (on a busy machine that wake-up can cost a whole scheduler time slice). A worker
/// that wakes late finds the loop's ranges all taken and does nothing.</item>
/// <item>Workers can spin for a short while after a loop before blocking, so the next launch, which
/// usually follows within microseconds, finds them awake. Off by default: on the shared, oversubscribed
/// build machine spinning measured no better (it burns the share of CPU the next kernel needs);
/// <c>DATAFLOW_JOB_SPIN_US=50</c> turns it on for a dedicated machine.</item>
/// </list>
/// </remarks>
public sealed class JobSystem : IDisposable
{
    /// <summary>How long an idle worker keeps looking for the next loop before it sleeps.</summary>
    public const int DefaultSpinMicroseconds = 0;

    private static readonly Lazy<JobSystem> SharedInstance = new(() => new JobSystem(Environment.ProcessorCount, SpinFromEnvironment()));

    /// <summary>The process-wide instance, one worker per core; <c>DATAFLOW_JOB_SPIN_US</c> overrides the spin time (0: off).</summary>
    public static JobSystem Shared => SharedInstance.Value;

    [ThreadStatic] private static bool _insideJob;

    private static readonly Action<int, int> NoBody = static (_, _) => { };

    private readonly Thread[] _workers;
    private readonly object _gate = new();
    private readonly SemaphoreSlim _wake = new(0);
    private readonly ManualResetEventSlim _done = new(false);
    private readonly long _spinTicks;
    private Loop? _current;
    private int _sleeping;
    private volatile bool _disposed;

    public JobSystem(int workerCount, int spinMicroseconds = DefaultSpinMicroseconds)
    {
        WorkerCount = Math.Max(1, workerCount);
        _spinTicks = Stopwatch.Frequency * Math.Max(0, spinMicroseconds) / 1_000_000;
        // The caller works too, so spawn one thread fewer than the parallelism wanted.
        _workers = new Thread[WorkerCount - 1];
        for (int i = 0; i < _workers.Length; i++)
        {
            _workers[i] = new Thread(WorkerLoop) { IsBackground = true, Name = $"dataflow-worker-{i}" };
            _workers[i].Start();
        }
    }

    public int WorkerCount { get; }

    private static int SpinFromEnvironment() =>
        int.TryParse(Environment.GetEnvironmentVariable("DATAFLOW_JOB_SPIN_US"), out var us) && us >= 0 ? us : DefaultSpinMicroseconds;

    /// <summary>
    /// One parallel-for: its body and ranges, and the counters the threads share for it. Records are
    /// reused from loop to loop (a step launches hundreds), so a launch allocates nothing: a record is
    /// refilled only when no worker is inside it (<see cref="Active"/> is 0), and a worker that enters
    /// one checks afterwards that it is still the published loop, so it never runs a half-refilled one.
    /// </summary>
    private sealed class Loop
    {
        public Action<int, int> Body = NoBody;
        public int Count, Chunk, Ranges;
        public int Next, Remaining;
        public int Active;
        public Exception? Failure;

        public void Refill(Action<int, int> body, int count, int chunk)
        {
            (Body, Count, Chunk, Failure) = (body, count, chunk, null);
            Ranges = Remaining = (count + chunk - 1) / chunk;
            Next = 0;
        }

        public bool HasWork => Volatile.Read(ref Next) < Ranges;
    }

    /// <summary>Loop records to reuse; one with a straggling worker still inside is skipped, not waited for.</summary>
    private readonly Loop[] _loops = [new(), new(), new(), new()];

    private Loop IdleLoop()
    {
        foreach (var loop in _loops)
            if (Volatile.Read(ref loop.Active) == 0) return loop;
        return new Loop(); // every record has a worker preempted inside it: rare, and this one is not kept
    }

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
            var loop = IdleLoop();
            loop.Refill(body, count, Math.Max(minChunk, (count + chunks - 1) / chunks));
            _done.Reset();
            Interlocked.Exchange(ref _current, loop); // a full fence: published before _sleeping is read
            int helpers = Math.Min(_workers.Length, loop.Ranges - 1), sleeping = Volatile.Read(ref _sleeping);
            if (helpers > 0 && sleeping > 0) _wake.Release(Math.Min(helpers, sleeping));

            // Whoever completes the last range signals; if that was a worker, wait for its signal (not
            // just for the counter) so that a late Set can never leak into the next loop.
            if (!RunRanges(loop)) _done.Wait();
            Interlocked.Exchange(ref _current, null); // a full fence: a worker entering the record after this sees it unpublished
            var failure = loop.Failure;
            loop.Body = NoBody; // drop the caller's delegate (and what it holds) until the record is refilled
            if (failure is not null) ExceptionDispatchInfo.Capture(failure).Throw();
        }
    }

    /// <summary>Takes ranges of <paramref name="loop"/> until none are left; true when this thread finished the last one.</summary>
    private static bool RunRanges(Loop loop)
    {
        bool wasInside = _insideJob, finishedLast = false;
        _insideJob = true;
        try
        {
            while (true)
            {
                // Hand out range indices, not start offsets: every thread overshoots once at the end, and
                // start offsets near int.MaxValue would overflow.
                int range = Interlocked.Increment(ref loop.Next) - 1;
                if (range >= loop.Ranges) break;
                if (Volatile.Read(ref loop.Failure) is null)
                {
                    long start = (long)range * loop.Chunk;
                    try { loop.Body((int)start, (int)Math.Min(start + loop.Chunk, loop.Count)); }
                    catch (Exception e) { Interlocked.CompareExchange(ref loop.Failure, e, null); }
                }
                if (Interlocked.Decrement(ref loop.Remaining) == 0) finishedLast = true;
            }
        }
        finally
        {
            _insideJob = wasInside;
        }
        return finishedLast;
    }

    private void WorkerLoop()
    {
        while (!_disposed)
        {
            if (Volatile.Read(ref _current) is { } loop && loop.HasWork)
            {
                // Enter, then make sure the record is still the published loop: the caller may have
                // finished it and be refilling it for the next one.
                Interlocked.Increment(ref loop.Active);
                if (ReferenceEquals(Volatile.Read(ref _current), loop) && RunRanges(loop)) _done.Set();
                Interlocked.Decrement(ref loop.Active);
                continue;
            }
            if (Spin()) continue;

            // Announce the sleep before the last look, so a caller either sees us asleep and wakes
            // us, or we see its loop (both sides use full fences).
            Interlocked.Increment(ref _sleeping);
            if (!(Volatile.Read(ref _current) is { } pending && pending.HasWork) && !_disposed) _wake.Wait();
            Interlocked.Decrement(ref _sleeping);
        }
    }

    /// <summary>Busy-waits up to the spin time for a loop with work left; true when one came.</summary>
    private bool Spin()
    {
        if (_spinTicks == 0) return false;
        long until = Stopwatch.GetTimestamp() + _spinTicks;
        do
        {
            for (int i = 0; i < 16; i++)
            {
                if (Volatile.Read(ref _current) is { } loop && loop.HasWork) return true;
                Thread.SpinWait(8);
            }
        } while (Stopwatch.GetTimestamp() < until && !_disposed);
        return false;
    }

    public void Dispose()
    {
        _disposed = true;
        _wake.Release(_workers.Length);
    }
}
