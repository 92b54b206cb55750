namespace Dataflow.Mpi;

/// <summary>Runs every collective of an inner communicator under a <see cref="CollectiveWatchdog"/>,
/// so a trainer gets the stall guard by wrapping its communicator once. With
/// <see cref="WatchdogOptions.WatchPeers"/> (and several ranks) the constructor is itself a collective:
/// it exchanges the ranks' process ids, so that a rank ends by itself, naming the peer, once one dies.</summary>
public sealed class WatchedCommunicator : ICommunicator
{
    private readonly ICommunicator _inner;
    private volatile bool _finalizing;

    public CollectiveWatchdog Watchdog { get; }

    /// <param name="report">receives the watchdog's message (the CLI prints it) before the run is aborted</param>
    public WatchedCommunicator(ICommunicator inner, WatchdogOptions options, Action<string> report)
    {
        _inner = inner;
        Peers = options.WatchPeers && inner.Size > 1 ? PeerProcesses.Exchange(inner) : null;
        Watchdog = new CollectiveWatchdog(options, inner.Rank, inner.Size, report, inner.Abort,
            deadPeer: Peers is { } peers ? () => _finalizing ? null : peers.Dead() : null, leave: ImmediateExit.Now);
    }

    /// <summary>Every rank's process (null when peers are not watched).</summary>
    public PeerProcesses? Peers { get; }

    public int Rank => _inner.Rank;

    public int Size => _inner.Size;

    public string Description => _inner.Description;

    public void AllReduce(Span<float> data, ReduceOp op)
    {
        using (Watchdog.Enter($"all-reduce ({op}) of {data.Length} floats")) _inner.AllReduce(data, op);
    }

    public void AllReduce(Span<double> data, ReduceOp op)
    {
        using (Watchdog.Enter($"all-reduce ({op}) of {data.Length} doubles")) _inner.AllReduce(data, op);
    }

    public void AllReduce(Span<long> data, ReduceOp op)
    {
        using (Watchdog.Enter($"all-reduce ({op}) of {data.Length} longs")) _inner.AllReduce(data, op);
    }

    public void Broadcast(Span<byte> data, int root)
    {
        using (Watchdog.Enter($"broadcast of {data.Length} bytes from rank {root}")) _inner.Broadcast(data, root);
    }

    public void Broadcast(Span<float> data, int root)
    {
        using (Watchdog.Enter($"broadcast of {data.Length} floats from rank {root}")) _inner.Broadcast(data, root);
    }

    public void Barrier()
    {
        using (Watchdog.Enter("barrier")) _inner.Barrier();
    }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        using (Watchdog.Enter($"all-gather of {send.Length} floats per rank")) _inner.AllGather(send, receive);
    }

    public void AllGatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts)
    {
        using (Watchdog.Enter($"all-gather-v of {receive.Length} floats")) _inner.AllGatherV(send, receive, counts);
    }

    public void GatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts, int root)
    {
        using (Watchdog.Enter($"gather-v of {send.Length} floats to rank {root}")) _inner.GatherV(send, receive, counts, root);
    }

    public void Abort(int exitCode) => _inner.Abort(exitCode);

    // MPI_Finalize waits for every rank, so a rank leaving on an error while its peers wait in a
    // collective would hang here: finalising is watched like a collective.
    // Once in MPI_Finalize, a peer that gets through it first may exit: no longer a death to report.
    public void Dispose()
    {
        _finalizing = true;
        using (Watchdog.Enter("finalize")) _inner.Dispose();
        Watchdog.Dispose();
    }
}
