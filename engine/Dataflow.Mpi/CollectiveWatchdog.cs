using System.Diagnostics;

namespace Dataflow.Mpi;

/// <summary>
/// Ends a run that stopped making progress instead of letting it hang: a background thread watches
/// how long this rank has been inside one collective (its peers are late: one failed or stalled) and,
/// optionally, how long since it last reached one (this rank itself is stuck). On either limit it
/// reports one message naming the rank and the collective, then aborts — with MPI, MPI_Abort, which
/// makes mpirun end every rank. Given a dead-peer check (<see cref="PeerProcesses"/>), it also ends
/// this rank at once, naming the peer, when a peer's process has died: each survivor leaves by itself
/// (so each ends with the exit code), since waiting would only run into the timeout. The library
/// never prints: the message goes to the caller's report.
/// </summary>
public sealed class CollectiveWatchdog : IDisposable
{
    private readonly WatchdogOptions _options;
    private readonly int _rank, _size;
    private readonly Action<string> _report;
    private readonly Action<int> _abort;
    private readonly Func<string?>? _deadPeer;
    private readonly Action<int> _leave;
    private readonly Thread _thread;
    private readonly ManualResetEventSlim _stop = new(false);

    // Written by the calling thread, read by the watchdog thread; 0 = not inside a collective.
    private long _enteredAt;
    private long _lastProgress = Stopwatch.GetTimestamp();
    private long _sequence;
    private volatile string _operation = "(none yet)";
    private int _fired;

    /// <param name="report">receives the one message, before <paramref name="abort"/> is called</param>
    /// <param name="abort">ends the run with the options' exit code (e.g. <see cref="ICommunicator.Abort"/>)</param>
    /// <param name="deadPeer">says which peers' processes have died ("rank 1 (pid 1234) has died"), or null while all live</param>
    /// <param name="leave">ends this process alone with the exit code, when <paramref name="deadPeer"/> names one (default: <paramref name="abort"/>)</param>
    public CollectiveWatchdog(WatchdogOptions options, int rank, int size, Action<string> report, Action<int> abort,
        Func<string?>? deadPeer = null, Action<int>? leave = null)
    {
        options.Validate();
        _options = options;
        _rank = rank;
        _size = size;
        _report = report;
        _abort = abort;
        _deadPeer = deadPeer;
        _leave = leave ?? abort;
        _thread = new Thread(Watch) { IsBackground = true, Name = $"mpi-watchdog-rank{rank}" };
        _thread.Start();
    }

    /// <summary>True once a limit was hit (the report and abort were called).</summary>
    public bool Fired => Volatile.Read(ref _fired) != 0;

    /// <summary>Marks the start of a collective; dispose the result when it returns.</summary>
    public Scope Enter(string collective)
    {
        _operation = collective;
        Interlocked.Increment(ref _sequence);
        Volatile.Write(ref _enteredAt, Stopwatch.GetTimestamp());
        return new Scope(this);
    }

    /// <summary>Tells the idle check this rank is still making progress (e.g. during a long evaluation).</summary>
    public void Heartbeat() => Volatile.Write(ref _lastProgress, Stopwatch.GetTimestamp());

    private void Leave()
    {
        Volatile.Write(ref _enteredAt, 0);
        Heartbeat();
    }

    private void Watch()
    {
        var shortest = _options.IdleTimeout is { } idle && idle < _options.CollectiveTimeout ? idle : _options.CollectiveTimeout;
        var poll = TimeSpan.FromMilliseconds(Math.Clamp(shortest.TotalMilliseconds / 20, 5, 250));
        while (!_stop.Wait(poll))
        {
            var peerDied = DeadPeer();
            var message = peerDied ?? Check(Stopwatch.GetTimestamp());
            if (message is null) continue;
            if (Interlocked.Exchange(ref _fired, 1) != 0) return;
            _report(message);
            (peerDied is null ? _abort : _leave)(_options.ExitCode);
            return;
        }
    }

    private string? DeadPeer()
    {
        if (_deadPeer?.Invoke() is not { } peer) return null;
        var where = Volatile.Read(ref _enteredAt) != 0 ? "while this rank waited in" : "since this rank's last collective,";
        return $"rank {_rank} of {_size}: {peer} (no such process; {where} {_operation}, collective #{Interlocked.Read(ref _sequence)}); " +
               $"ending this rank with exit {_options.ExitCode}";
    }

    private string? Check(long now)
    {
        var entered = Volatile.Read(ref _enteredAt);
        var sequence = Interlocked.Read(ref _sequence);
        if (entered != 0)
        {
            var waited = Stopwatch.GetElapsedTime(entered, now);
            if (waited <= _options.CollectiveTimeout) return null;
            return $"rank {_rank} of {_size}: {_operation} (collective #{sequence}) waited {waited.TotalSeconds:F1} s for the other ranks " +
                   $"(limit {_options.CollectiveTimeout.TotalSeconds:F1} s): another rank failed or stalled; aborting the run";
        }
        if (_options.IdleTimeout is not { } limit) return null;
        var idle = Stopwatch.GetElapsedTime(Volatile.Read(ref _lastProgress), now);
        if (idle <= limit) return null;
        return $"rank {_rank} of {_size}: stalled — no collective for {idle.TotalSeconds:F1} s (limit {limit.TotalSeconds:F1} s) " +
               $"since {_operation} (collective #{sequence}); aborting the run";
    }

    public void Dispose()
    {
        _stop.Set();
        if (Thread.CurrentThread != _thread) _thread.Join();
        _stop.Dispose();
    }

    /// <summary>The span of one collective; leaving it counts as progress.</summary>
    public readonly struct Scope(CollectiveWatchdog watchdog) : IDisposable
    {
        public void Dispose() => watchdog.Leave();
    }
}
