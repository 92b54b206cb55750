namespace Dataflow.Mpi.Tests;

/// <summary>
/// Plays rank 0 of a world of <see cref="Size"/> in which every other rank holds <c>peer(i)</c> at
/// position i of the concatenated buffers all-reduced so far; records each all-reduce's length.
/// </summary>
internal sealed class FakeCommunicator(int size, Func<long, float> peer) : ICommunicator
{
    private long _position;

    public List<int> ReducedLengths { get; } = [];

    /// <summary>The gradients whose memory <see cref="ReducedInPlace"/> looks for.</summary>
    public float[][] Watched { get; init; } = [];

    /// <summary>Per all-reduce: whether it ran on the memory of one of the <see cref="Watched"/> arrays.</summary>
    public List<bool> ReducedInPlace { get; } = [];

    /// <summary>Runs in place of finalising (e.g. to hang the way MPI_Finalize does when a peer is gone).</summary>
    public Action? OnDispose { get; init; }

    public Action<int>? OnAbort { get; init; }

    public int Rank => 0;

    public int Size => size;

    public string Description => $"fake ({size} ranks)";

    public void AllReduce(Span<float> data, ReduceOp op)
    {
        Assert.Equal(ReduceOp.Sum, op);
        for (var i = 0; i < data.Length; i++) data[i] += (size - 1) * peer(_position + i);
        _position += data.Length;
        ReducedLengths.Add(data.Length);
        var inPlace = false;
        foreach (var array in Watched) inPlace |= data.Overlaps(array);
        ReducedInPlace.Add(inPlace);
    }

    public void AllReduce(Span<double> data, ReduceOp op) => throw new NotSupportedException();

    public void AllReduce(Span<long> data, ReduceOp op) => throw new NotSupportedException();

    public void Broadcast(Span<byte> data, int root) => throw new NotSupportedException();

    public void Broadcast(Span<float> data, int root) => throw new NotSupportedException();

    public void Barrier() => throw new NotSupportedException();

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive) => throw new NotSupportedException();

    public void AllGatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts) => throw new NotSupportedException();

    public void GatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts, int root) => throw new NotSupportedException();

    public void Abort(int exitCode) => (OnAbort ?? throw new NotSupportedException())(exitCode);

    public void Dispose() => OnDispose?.Invoke();
}
