using System.Runtime.InteropServices;

namespace Dataflow.Mpi;

/// <summary>
/// Ends this process now, from any thread, without running exit handlers: a rank whose peer died
/// leaves while its main thread may sit inside an MPI call, and OpenMPI's exit-time clean-up could
/// wait on that peer too. Whoever calls this has already reported why.
/// </summary>
internal static class ImmediateExit
{
    public static void Now(int exitCode)
    {
        if (OperatingSystem.IsLinux()) Exit(exitCode);
        Environment.Exit(exitCode);
    }

    [DllImport("libc.so.6", EntryPoint = "_exit")]
    private static extern void Exit(int status);
}
