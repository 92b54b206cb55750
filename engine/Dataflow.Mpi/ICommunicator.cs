namespace Dataflow.Mpi;

/// <summary>
/// The collectives data-parallel training needs, over all ranks of one run. Every rank must make the
/// same calls in the same order with the same lengths (MPI's rule); results are identical on every
/// rank. In-place: each buffer is both input and output. <see cref="SingleProcessCommunicator"/>
/// (size 1) lets a trainer be written once for one process and for many.
/// </summary>
public interface ICommunicator : IDisposable
{
    int Rank { get; }

    int Size { get; }

    /// <summary>What this is, for logs: "mpi (rank 1 of 4)", "single process".</summary>
    string Description { get; }

    void AllReduce(Span<float> data, ReduceOp op);

    void AllReduce(Span<double> data, ReduceOp op);

    void AllReduce(Span<long> data, ReduceOp op);

    /// <summary>Overwrites <paramref name="data"/> on every rank with the root's.</summary>
    void Broadcast(Span<byte> data, int root);

    void Broadcast(Span<float> data, int root);

    void Barrier();

    /// <summary>Every rank contributes <paramref name="send"/> (the same length everywhere); <paramref name="receive"/>
    /// holds Size * send.Length values, rank r's at r * send.Length.</summary>
    void AllGather(ReadOnlySpan<float> send, Span<float> receive);

    /// <summary>Rank r contributes counts[r] values, placed at the sum of the counts before it (ZeRO-1's slices).</summary>
    void AllGatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts);

    /// <summary>As <see cref="AllGatherV"/>, but only <paramref name="root"/> receives (ZeRO-1's moments, for rank 0's
    /// checkpoint); <paramref name="receive"/> is ignored, and may be empty, on the other ranks.</summary>
    void GatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts, int root);

    /// <summary>Ends every rank of the run with <paramref name="exitCode"/>; does not return.</summary>
    void Abort(int exitCode);
}
