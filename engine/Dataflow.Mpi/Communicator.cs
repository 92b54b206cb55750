namespace Dataflow.Mpi;

/// <summary>Chooses the communicator for this process: MPI when a launcher started it, one process otherwise.</summary>
public static class Communicator
{
    // Set by OpenMPI's mpirun (OMPI_*), by PMIx launchers such as srun and prterun (PMIX_RANK), and by
    // PMI-1/2 launchers such as MPICH's hydra and older Slurm (PMI_RANK, PMI_SIZE).
    private static readonly string[] LauncherVariables =
        ["OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_RANK", "PMIX_RANK", "PMI_RANK", "PMI_SIZE"];

    /// <summary>True when an MPI launcher (mpirun, srun, ...) started this process; reads only the environment.</summary>
    public static bool IsLaunchedUnderMpi() => IsLaunchedUnderMpi(Environment.GetEnvironmentVariable);

    /// <summary>The same, over a given environment (for tests).</summary>
    public static bool IsLaunchedUnderMpi(Func<string, string?> environment) =>
        LauncherVariables.Any(name => !string.IsNullOrEmpty(environment(name)));

    /// <summary>True when libmpi.so.40 can be loaded (MPI is not initialised by asking).</summary>
    public static bool IsMpiAvailable() => MpiLibrary.IsAvailable();

    /// <summary>
    /// MPI's world when launched under MPI (or when <paramref name="forceMpi"/>, i.e. --distributed mpi),
    /// else a single process.
    /// </summary>
    /// <exception cref="MpiUnavailableException">MPI is wanted but libmpi is missing.</exception>
    public static ICommunicator FromEnvironment(bool forceMpi = false) =>
        forceMpi || IsLaunchedUnderMpi() ? MpiCommunicator.Initialize() : new SingleProcessCommunicator();
}
