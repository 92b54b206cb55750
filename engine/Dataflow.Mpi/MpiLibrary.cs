using System.Runtime.InteropServices;

namespace Dataflow.Mpi;

/// <summary>
/// OpenMPI's libmpi, loaded at run time (no build-time dependency), with the entry points we call as
/// unmanaged function pointers. OpenMPI's handles (communicators, datatypes, ops, error handlers) are
/// the addresses of exported globals such as <c>ompi_mpi_comm_world</c>, so they are found with
/// <see cref="NativeLibrary.GetExport"/> like the functions. MPICH's integer handles differ: this is
/// OpenMPI only (Debian's libopenmpi3 provides libmpi.so.40).
/// </summary>
internal sealed unsafe class MpiLibrary
{
    private static readonly string[] Candidates = ["libmpi.so.40", "libmpi.so"];

    // OpenMPI's MPI_SUCCESS and MPI_MAX_ERROR_STRING; MPI_IN_PLACE is (void*)1 in its mpi.h.
    public const int Success = 0;
    private const int MaxErrorString = 256;
    public static readonly void* InPlace = (void*)1;

    private static readonly Lazy<MpiLibrary> Shared = new(() => Load(Candidates), LazyThreadSafetyMode.ExecutionAndPublication);

    public static MpiLibrary Instance => Shared.Value;

    public readonly string Path;

    public readonly delegate* unmanaged<int*, byte***, int> Init;
    public readonly delegate* unmanaged<int*, int> Initialized;
    public readonly delegate* unmanaged<int*, int> Finalized;
    public readonly delegate* unmanaged<int> Finalize;
    public readonly delegate* unmanaged<nint, int*, int> CommRank;
    public readonly delegate* unmanaged<nint, int*, int> CommSize;
    public readonly delegate* unmanaged<nint, nint, int> CommSetErrhandler;
    public readonly delegate* unmanaged<void*, void*, int, nint, nint, nint, int> Allreduce;
    public readonly delegate* unmanaged<void*, int, nint, int, nint, int> Bcast;
    public readonly delegate* unmanaged<nint, int> Barrier;
    public readonly delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int> Allgather;
    public readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int> Allgatherv;
    public readonly delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, int> Gatherv;
    public readonly delegate* unmanaged<nint, int, int> Abort;
    public readonly delegate* unmanaged<int, byte*, int*, int> ErrorString;

    public readonly nint CommWorld, Float, Double, Long, Byte, OpSum, OpMax, OpMin, ErrorsReturn;

    private MpiLibrary(string path, nint handle)
    {
        Path = path;
        nint Export(string name)
        {
            if (NativeLibrary.TryGetExport(handle, name, out var address)) return address;
            throw new MpiUnavailableException($"{path} has no symbol {name}: is it OpenMPI (libopenmpi3)? MPICH is not supported");
        }

        Init = (delegate* unmanaged<int*, byte***, int>)Export("MPI_Init");
        Initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        Finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        Finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        CommRank = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_rank");
        CommSize = (delegate* unmanaged<nint, int*, int>)Export("MPI_Comm_size");
        CommSetErrhandler = (delegate* unmanaged<nint, nint, int>)Export("MPI_Comm_set_errhandler");
        Allreduce = (delegate* unmanaged<void*, void*, int, nint, nint, nint, int>)Export("MPI_Allreduce");
        Bcast = (delegate* unmanaged<void*, int, nint, int, nint, int>)Export("MPI_Bcast");
        Barrier = (delegate* unmanaged<nint, int>)Export("MPI_Barrier");
        Allgather = (delegate* unmanaged<void*, int, nint, void*, int, nint, nint, int>)Export("MPI_Allgather");
        Allgatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, nint, int>)Export("MPI_Allgatherv");
        Gatherv = (delegate* unmanaged<void*, int, nint, void*, int*, int*, nint, int, nint, int>)Export("MPI_Gatherv");
        Abort = (delegate* unmanaged<nint, int, int>)Export("MPI_Abort");
        ErrorString = (delegate* unmanaged<int, byte*, int*, int>)Export("MPI_Error_string");

        CommWorld = Export("ompi_mpi_comm_world");
        Float = Export("ompi_mpi_float");
        Double = Export("ompi_mpi_double");
        Long = Export("ompi_mpi_long");
        Byte = Export("ompi_mpi_byte");
        OpSum = Export("ompi_mpi_op_sum");
        OpMax = Export("ompi_mpi_op_max");
        OpMin = Export("ompi_mpi_op_min");
        ErrorsReturn = Export("ompi_mpi_errors_return");
    }

    /// <summary>True when libmpi can be loaded here (it is not initialised by asking).</summary>
    public static bool IsAvailable()
    {
        try
        {
            _ = Instance;
            return true;
        }
        catch (MpiUnavailableException)
        {
            return false;
        }
    }

    /// <summary>Loads the first of <paramref name="candidates"/> that dlopen finds (tests pass missing names).</summary>
    internal static MpiLibrary Load(IEnumerable<string> candidates)
    {
        var errors = new List<string>();
        foreach (var name in candidates)
        {
            try
            {
                return new MpiLibrary(name, LoadGlobal(name));
            }
            catch (DllNotFoundException e)
            {
                errors.Add(e.Message);
            }
        }
        throw new MpiUnavailableException(
            $"OpenMPI's libmpi.so.40 was not found ({string.Join("; ", errors)}); install openmpi-bin and libopenmpi3 (tools/setup does)");
    }

    // OpenMPI dlopen()s its components, which resolve symbols of libmpi and libopen-pal against the
    // global namespace; NativeLibrary.Load opens with RTLD_LOCAL, so libmpi is opened RTLD_GLOBAL here.
    private static nint LoadGlobal(string name)
    {
        const int RtldNow = 2, RtldGlobal = 0x100;
        if (!OperatingSystem.IsLinux()) return NativeLibrary.Load(name);
        // Calling dlerror first binds its P/Invoke now: binding it after a failed dlopen would run
        // dlsym, which clears the error we want to read.
        _ = Dlerror();
        var handle = Dlopen(name, RtldNow | RtldGlobal);
        if (handle == 0)
        {
            var reason = Marshal.PtrToStringUTF8(Dlerror()) ?? $"{name}: dlopen failed";
            throw new DllNotFoundException(reason);
        }
        return handle;
    }

    [DllImport("libc.so.6", EntryPoint = "dlopen")]
    private static extern nint Dlopen([MarshalAs(UnmanagedType.LPUTF8Str)] string file, int mode);

    [DllImport("libc.so.6", EntryPoint = "dlerror")]
    private static extern nint Dlerror();

    /// <summary>Throws an <see cref="MpiException"/> naming the call unless <paramref name="code"/> is MPI_SUCCESS.</summary>
    public void Check(int code, string call)
    {
        if (code == Success) return;
        throw new MpiException(call, code, DescribeError(code));
    }

    private string DescribeError(int code)
    {
        var text = stackalloc byte[MaxErrorString + 1];
        var length = 0;
        if (ErrorString(code, text, &length) != Success || length <= 0) return "(no error string)";
        return System.Text.Encoding.UTF8.GetString(text, Math.Min(length, MaxErrorString));
    }
}
