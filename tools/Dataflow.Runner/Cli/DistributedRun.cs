using Dataflow.Mpi;
using Dataflow.Training;
using Dataflow.Training.Mpi;

namespace Dataflow.Runner.Cli;

/// <summary>
/// How `train` joins an MPI job: detected from the launcher's environment (mpirun, srun) or asked
/// for with <c>--distributed mpi</c>; every collective runs under the watchdog, so a rank that dies
/// or stalls ends the run with a message naming it. One process otherwise (no MPI is loaded).
/// </summary>
public sealed class DistributedRun : IDisposable
{
    private readonly ICommunicator _world;

    private DistributedRun(ICommunicator world, IDataParallel parallel) => (_world, Parallel) = (world, parallel);

    public IDataParallel Parallel { get; }

    public bool IsRoot => _world.Rank == 0;

    /// <param name="mode">null or "auto": MPI when launched by one; "mpi": MPI always; "none": one process</param>
    /// <param name="collectiveTimeout">the longest a rank waits in one collective (it must cover rank 0's evaluations and checkpoints)</param>
    /// <param name="zero">0: every rank updates every parameter; 1: ZeRO stage 1, the optimizer state sharded over the ranks</param>
    public static DistributedRun Open(string? mode, TimeSpan collectiveTimeout, int zero = 0)
    {
        bool? forceMpi = mode switch
        {
            null or "auto" => false,
            "mpi" => true,
            "none" => null,
            _ => throw new UsageException($"--distributed {mode}: expected auto, mpi or none"),
        };
        if (forceMpi is not { } force || (!force && !Communicator.IsLaunchedUnderMpi()))
            return new DistributedRun(new SingleProcessCommunicator(), SingleProcess.Instance);
        var world = new WatchedCommunicator(Communicator.FromEnvironment(forceMpi: true), new WatchdogOptions(collectiveTimeout),
            report: message => { Console.Error.WriteLine("dataflow: " + message); Console.Error.Flush(); });
        return new DistributedRun(world, world.Size == 1 ? SingleProcess.Instance : new MpiDataParallel(world, shardOptimizerState: zero == 1));
    }

    /// <summary>
    /// Reports an error of a multi-rank run naming this rank, then aborts the whole job with its exit
    /// code: disposing would finalise, and MPI_Finalize waits for peers stuck in a collective.
    /// </summary>
    public int Fail(Exception exception, int verbosity)
    {
        int code = ErrorReporter.Report(exception, verbosity, $"rank {_world.Rank} of {_world.Size}: ");
        Console.Out.Flush();
        Console.Error.Flush();
        _world.Abort(code);
        return code;
    }

    public bool IsMultiRank => _world.Size > 1;

    public void Dispose() => _world.Dispose();
}
