namespace Dataflow.Mpi;

/// <summary>
/// MPI_COMM_WORLD through OpenMPI. Created once per process (MPI cannot be initialised again after
/// MPI_Finalize); disposing finalises. Errors are returned, not fatal (MPI_ERRORS_RETURN), so every
/// failing call becomes an <see cref="MpiException"/> naming it.
/// </summary>
public sealed unsafe class MpiCommunicator : ICommunicator
{
    // MPI counts are ints; longer buffers go in pieces of this many elements.
    private const int MaxCount = 1 << 30;

    // MPI cannot start again after MPI_Finalize, and OpenMPI kills a process that calls it afterwards,
    // so every communicator of the process refuses work once one has finalised.
    private static volatile bool s_finalized;

    private readonly MpiLibrary _mpi;
    private readonly bool _ownsInit;
    private bool _disposed;

    public int Rank { get; }

    public int Size { get; }

    public string Description => $"mpi (rank {Rank} of {Size}, {_mpi.Path})";

    private MpiCommunicator(MpiLibrary mpi, bool ownsInit, int rank, int size)
    {
        _mpi = mpi;
        _ownsInit = ownsInit;
        Rank = rank;
        Size = size;
    }

    /// <summary>Initialises MPI (unless the process already did) and returns the world communicator.</summary>
    /// <exception cref="MpiUnavailableException">libmpi is not installed.</exception>
    public static MpiCommunicator Initialize()
    {
        var mpi = MpiLibrary.Instance;
        int initialized, finalized;
        mpi.Check(mpi.Initialized(&initialized), "MPI_Initialized");
        mpi.Check(mpi.Finalized(&finalized), "MPI_Finalized");
        if (finalized != 0 || s_finalized) throw new MpiException("MPI_Init", -1, "MPI was already finalised in this process and cannot start again");
        var ownsInit = initialized == 0;
        if (ownsInit) mpi.Check(mpi.Init(null, null), "MPI_Init");
        mpi.Check(mpi.CommSetErrhandler(mpi.CommWorld, mpi.ErrorsReturn), "MPI_Comm_set_errhandler");
        int rank, size;
        mpi.Check(mpi.CommRank(mpi.CommWorld, &rank), "MPI_Comm_rank");
        mpi.Check(mpi.CommSize(mpi.CommWorld, &size), "MPI_Comm_size");
        return new MpiCommunicator(mpi, ownsInit, rank, size);
    }

    public void AllReduce(Span<float> data, ReduceOp op)
    {
        fixed (float* p = data) AllReduce(p, data.Length, sizeof(float), _mpi.Float, op);
    }

    public void AllReduce(Span<double> data, ReduceOp op)
    {
        fixed (double* p = data) AllReduce(p, data.Length, sizeof(double), _mpi.Double, op);
    }

    public void AllReduce(Span<long> data, ReduceOp op)
    {
        fixed (long* p = data) AllReduce(p, data.Length, sizeof(long), _mpi.Long, op);
    }

    private void AllReduce(void* data, int length, int elementSize, nint type, ReduceOp op)
    {
        var handle = op switch
        {
            ReduceOp.Sum => _mpi.OpSum,
            ReduceOp.Max => _mpi.OpMax,
            ReduceOp.Min => _mpi.OpMin,
            _ => throw new ArgumentOutOfRangeException(nameof(op), op, "unknown reduction"),
        };
        ThrowIfDisposed();
        // A zero-length call is still made: every rank must take part in every collective.
        var start = 0;
        do
        {
            var count = Math.Min(MaxCount, length - start);
            _mpi.Check(_mpi.Allreduce(MpiLibrary.InPlace, (byte*)data + (long)start * elementSize, count, type, handle, _mpi.CommWorld), "MPI_Allreduce");
            start += count;
        } while (start < length);
    }

    public void Broadcast(Span<byte> data, int root)
    {
        fixed (byte* p = data) Broadcast(p, data.Length, sizeof(byte), _mpi.Byte, root);
    }

    public void Broadcast(Span<float> data, int root)
    {
        fixed (float* p = data) Broadcast(p, data.Length, sizeof(float), _mpi.Float, root);
    }

    private void Broadcast(void* data, int length, int elementSize, nint type, int root)
    {
        CollectiveChecks.Root(root, Size);
        ThrowIfDisposed();
        var start = 0;
        do
        {
            var count = Math.Min(MaxCount, length - start);
            _mpi.Check(_mpi.Bcast((byte*)data + (long)start * elementSize, count, type, root, _mpi.CommWorld), "MPI_Bcast");
            start += count;
        } while (start < length);
    }

    public void Barrier()
    {
        ThrowIfDisposed();
        _mpi.Check(_mpi.Barrier(_mpi.CommWorld), "MPI_Barrier");
    }

    public void AllGather(ReadOnlySpan<float> send, Span<float> receive)
    {
        CollectiveChecks.AllGather(send.Length, receive.Length, Size);
        ThrowIfDisposed();
        fixed (float* s = send)
        fixed (float* r = receive)
            _mpi.Check(_mpi.Allgather(s, send.Length, _mpi.Float, r, send.Length, _mpi.Float, _mpi.CommWorld), "MPI_Allgather");
    }

    public void AllGatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts)
    {
        var displacements = CollectiveChecks.AllGatherV(send.Length, receive.Length, counts, Rank, Size);
        ThrowIfDisposed();
        fixed (float* s = send)
        fixed (float* r = receive)
        fixed (int* c = counts)
        fixed (int* d = displacements)
            _mpi.Check(_mpi.Allgatherv(s, send.Length, _mpi.Float, r, c, d, _mpi.Float, _mpi.CommWorld), "MPI_Allgatherv");
    }

    public void GatherV(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts, int root)
    {
        var displacements = CollectiveChecks.GatherV(send.Length, receive.Length, counts, root, Rank, Size);
        ThrowIfDisposed();
        fixed (float* s = send)
        fixed (float* r = receive)
        fixed (int* c = counts)
        fixed (int* d = displacements)
            _mpi.Check(_mpi.Gatherv(s, send.Length, _mpi.Float, r, c, d, _mpi.Float, root, _mpi.CommWorld), "MPI_Gatherv");
    }

    public void Abort(int exitCode)
    {
        // MPI_Abort asks mpirun to kill every rank; it should not return, and if it does the process ends anyway.
        _mpi.Abort(_mpi.CommWorld, exitCode);
        Environment.Exit(exitCode);
    }

    private void ThrowIfDisposed()
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (s_finalized) throw new MpiException("MPI", -1, "MPI was already finalised in this process");
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (!_ownsInit) return;
        int finalized;
        _mpi.Check(_mpi.Finalized(&finalized), "MPI_Finalized");
        s_finalized = true;
        if (finalized == 0) _mpi.Check(_mpi.Finalize(), "MPI_Finalize");
    }
}
