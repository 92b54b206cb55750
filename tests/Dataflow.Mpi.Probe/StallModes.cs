using System.Runtime.InteropServices;

namespace Dataflow.Mpi.Probe;

/// <summary>
/// Rank 1 fails or stalls while rank 0 waits in an all-reduce; the run must end with exit 1 within the
/// watchdog's limits, with a message naming the rank. The timeouts are short so the tests are quick.
/// </summary>
internal static class StallModes
{
    private static readonly WatchdogOptions Limits = new(CollectiveTimeout: TimeSpan.FromSeconds(6), IdleTimeout: TimeSpan.FromSeconds(3));

    /// <summary>Rank 1 keeps working without reaching the next collective: its own idle check fires first.</summary>
    public static int Idle()
    {
        using var world = Watched(MpiCommunicator.Initialize());
        Warm(world);
        if (world.Rank == 1) Thread.Sleep(TimeSpan.FromSeconds(120));
        world.AllReduce(new float[8], ReduceOp.Sum);
        Console.WriteLine($"rank {world.Rank}: the stall was not caught");
        return 0;
    }

    /// <summary>Rank 1 is frozen (it can run nothing, its watchdog included): rank 0's collective limit fires.</summary>
    public static int Stopped()
    {
        using var world = Watched(MpiCommunicator.Initialize());
        Warm(world);
        if (world.Rank == 1) _ = Kill(Environment.ProcessId, SigStop);
        world.AllReduce(new float[8], ReduceOp.Sum);
        Console.WriteLine($"rank {world.Rank}: the stall was not caught");
        return 0;
    }

    /// <summary>Rank 1 is killed (SIGKILL: no handler, no goodbye); mpirun notices and ends the run.</summary>
    public static int Killed()
    {
        using var world = Watched(MpiCommunicator.Initialize());
        Warm(world);
        if (world.Rank == 1) _ = Kill(Environment.ProcessId, SigKill);
        world.AllReduce(new float[8], ReduceOp.Sum);
        Console.WriteLine($"rank {world.Rank}: the kill was not caught");
        return 0;
    }

    /// <summary>Rank 1 fails and exits; mpirun notices and ends the run.</summary>
    public static int ExitEarly()
    {
        using var world = Watched(MpiCommunicator.Initialize());
        Warm(world);
        if (world.Rank == 1)
        {
            Console.Error.WriteLine("probe: rank 1 fails on purpose");
            Environment.Exit(1);
        }
        world.AllReduce(new float[8], ReduceOp.Sum);
        Console.WriteLine($"rank {world.Rank}: the failure was not caught");
        return 0;
    }

    private static WatchedCommunicator Watched(ICommunicator world) =>
        new(world, Limits, message => Console.Error.WriteLine("probe: " + message));

    // One collective first, so the failure happens mid-run rather than during start-up.
    private static void Warm(ICommunicator world)
    {
        world.Barrier();
        Console.WriteLine($"rank {world.Rank}: started");
    }

    private const int SigKill = 9, SigStop = 19;

    [DllImport("libc.so.6", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);
}
