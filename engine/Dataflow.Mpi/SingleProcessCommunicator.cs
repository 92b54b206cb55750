namespace Dataflow.Mpi;

/// <summary>A world of one: every collective is the identity, so a trainer written against
/// <see cref="ICommunicator"/> runs unchanged without MPI.</summary>
public sealed class SingleProcessCommunicator : ICommunicator
{
    public int Rank => 0;

    public int Size => 1;

    public string Description => "single process";

    public void AllReduce(Span<float> data, ReduceOp op) { }

    public void AllReduce(Span<double> data, ReduceOp op) { }

    public void AllReduce(Span<long> data, ReduceOp op) { }

    public void Broadcast(Span<byte> data, int root) => CollectiveChecks.Root(root, Size);

    public void Broadcast(Span<float> data, int root) => CollectiveChecks.Root(root, Size);

    public void Barrier() { }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        CollectiveChecks.AllGather(send.Length, receive.Length, Size);
        send.CopyTo(receive);
    }

    public void AllGatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts)
    {
        CollectiveChecks.AllGatherV(send.Length, receive.Length, counts, Rank, Size);
        send.CopyTo(receive);
    }

    public void GatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts, int root)
    {
        CollectiveChecks.GatherV(send.Length, receive.Length, counts, root, Rank, Size);
        send.CopyTo(receive);
    }

    public void Abort(int exitCode) => Environment.Exit(exitCode);

    public void Dispose() { }
}
