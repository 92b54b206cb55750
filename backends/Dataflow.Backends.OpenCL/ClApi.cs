using Silk.NET.OpenCL;

namespace Dataflow.Backends.OpenCL;

/// <summary>
/// The loaded OpenCL library (through the ICD loader) and error handling for its calls. Loading is
/// done once per process; a missing libOpenCL becomes <see cref="Engine.Backends.BackendUnavailableException"/>
/// so the runner can say what to install and exit 2 instead of crashing with a loader error.
/// </summary>
internal static class ClApi
{
    private static readonly Lazy<(CL? Api, Exception? Error)> Loaded = new(Load);

    public static CL Get()
    {
        var (api, error) = Loaded.Value;
        return api ?? throw new Engine.Backends.BackendUnavailableException(
            $"opencl: cannot load the OpenCL library (libOpenCL.so.1 / OpenCL.dll): {error?.Message.TrimEnd('.', '!', ' ')}. " +
            "Install an ICD loader and a driver (for example ocl-icd-libopencl1 and pocl-opencl-icd).", error);
    }

    private static (CL?, Exception?) Load()
    {
        try
        {
            return (CL.GetApi(), null);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException or FileNotFoundException
                                      or TypeInitializationException or PlatformNotSupportedException or InvalidOperationException)
        {
            return (null, e);
        }
    }

    /// <summary>Throws with the call and the error's name when <paramref name="error"/> is not CL_SUCCESS.</summary>
    public static void Check(int error, string what)
    {
        if (error != 0) throw new OpenClException(what, error);
    }

    public static string ErrorName(int code) => code switch
    {
        0 => "CL_SUCCESS",
        -1 => "CL_DEVICE_NOT_FOUND",
        -2 => "CL_DEVICE_NOT_AVAILABLE",
        -3 => "CL_COMPILER_NOT_AVAILABLE",
        -4 => "CL_MEM_OBJECT_ALLOCATION_FAILURE",
        -5 => "CL_OUT_OF_RESOURCES",
        -6 => "CL_OUT_OF_HOST_MEMORY",
        -11 => "CL_BUILD_PROGRAM_FAILURE",
        -30 => "CL_INVALID_VALUE",
        -32 => "CL_INVALID_PLATFORM",
        -33 => "CL_INVALID_DEVICE",
        -34 => "CL_INVALID_CONTEXT",
        -36 => "CL_INVALID_COMMAND_QUEUE",
        -38 => "CL_INVALID_MEM_OBJECT",
        -43 => "CL_INVALID_BUILD_OPTIONS",
        -44 => "CL_INVALID_PROGRAM",
        -45 => "CL_INVALID_PROGRAM_EXECUTABLE",
        -46 => "CL_INVALID_KERNEL_NAME",
        -48 => "CL_INVALID_KERNEL",
        -49 => "CL_INVALID_ARG_INDEX",
        -50 => "CL_INVALID_ARG_VALUE",
        -51 => "CL_INVALID_ARG_SIZE",
        -52 => "CL_INVALID_KERNEL_ARGS",
        -53 => "CL_INVALID_WORK_DIMENSION",
        -54 => "CL_INVALID_WORK_GROUP_SIZE",
        -55 => "CL_INVALID_WORK_ITEM_SIZE",
        -56 => "CL_INVALID_GLOBAL_OFFSET",
        -61 => "CL_INVALID_BUFFER_SIZE",
        -63 => "CL_INVALID_GLOBAL_WORK_SIZE",
        -1001 => "CL_PLATFORM_NOT_FOUND_KHR",
        _ => $"error {code}",
    };
}

/// <summary>An OpenCL call failed at run time (not a compile error: those are <see cref="Engine.Backends.KernelCompileException"/>).</summary>
public sealed class OpenClException(string what, int code) : Exception($"opencl: {what} failed: {ClApi.ErrorName(code)} ({code})")
{
    public int Code { get; } = code;
}
