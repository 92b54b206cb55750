using System.Runtime.InteropServices;

namespace Dataflow.Mpi.Probe;

/// <summary>
/// Rank 1 fails or stalls while rank 0 waits in an all-reduce; the run must end within the watchdog's
/// limits (short here, so the tests are quick), with a message naming the rank.
/// </summary>
internal static class StallModes
{
    private static readonly WatchdogOptions Limits = new(CollectiveTimeout: TimeSpan.FromSeconds(10), IdleTimeout: TimeSpan.FromSeconds(3));

    private const int SigKill = 9, SigStop = 19;

    /// <summary>Rank 1 keeps working without reaching the next collective: its own idle check fires first.</summary>
    public static int Idle() => FailRankOne(() => Thread.Sleep(TimeSpan.FromSeconds(120)));

    /// <summary>Rank 1 is frozen (it runs nothing, its watchdog included): rank 0's collective limit fires.
    /// mpirun wakes stopped ranks (SIGCONT) before it kills them; a frozen rank stays frozen, so it sleeps on.</summary>
    public static int Stopped() => FailRankOne(() =>
    {
        Kill(Environment.ProcessId, SigStop);
        Thread.Sleep(Timeout.Infinite);
    });

    /// <summary>Rank 1 is killed (no handler, no goodbye); mpirun notices and ends the run.</summary>
    public static int Killed() => FailRankOne(() => Kill(Environment.ProcessId, SigKill));

    /// <summary>Rank 1 fails and exits; mpirun notices and ends the run.</summary>
    public static int ExitEarly() => FailRankOne(() =>
    {
        Console.Error.WriteLine("probe: rank 1 fails on purpose");
        Environment.Exit(1);
    });

    /// <summary>Rank 1 throws and leaves through Dispose, i.e. MPI_Finalize, while rank 0 waits in a collective.</summary>
    public static int ThrowEarly() => FailRankOne(() => throw new ProbeFailure("rank 1 fails on purpose"));

    // One collective first, so the failure happens mid-run rather than during start-up; then rank 1
    // fails while rank 0 enters an all-reduce. Returning at all means nothing caught the failure.
    private static int FailRankOne(Action failure)
    {
        using var world = new WatchedCommunicator(MpiCommunicator.Initialize(), Limits, message => Console.Error.WriteLine("probe: " + message));
        try
        {
            // Printed before the barrier, so every rank has said it before any can fail.
            Console.WriteLine($"rank {world.Rank}: started");
            world.Barrier();
            if (world.Rank == 1) failure();
            world.AllReduce(new float[8], ReduceOp.Sum);
            Console.WriteLine($"rank {world.Rank}: the failure was not caught");
            return 0;
        }
        catch (ProbeFailure e) when (world.Size > 1)
        {
            // What a distributed command does with an error: report it naming the rank, then abort the
            // run rather than leave through MPI_Finalize, which would wait for peers that never come.
            Console.Error.WriteLine($"probe: rank {world.Rank} of {world.Size}: {e.Message}");
            world.Abort(1);
            return 1;
        }
    }

    [DllImport("libc.so.6", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
