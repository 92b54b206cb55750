using Dataflow.Mpi.Probe;

// usage: mpirun -np N dotnet Dataflow.Mpi.Probe.dll <mode> [args]
//   collectives          check every collective and the bucketer on every rank; exit 1 on a mismatch
//   stall-idle           rank 1 stops reaching collectives; its watchdog's idle check ends the run
//   stall-stopped        rank 1 freezes (SIGSTOP); rank 0's watchdog ends the run while waiting for it
//   exit-early           rank 1 exits with 1 before a collective; mpirun ends the others
//   throw-early          rank 1 throws, so it finalises MPI while rank 0 waits in a collective
//   killed               rank 1 is killed (SIGKILL) before a collective; mpirun ends the others
//   bench <floats>...    all-reduce bandwidth for each size
// Every rank prints "rank R: ..." lines on stdout; failures go to stderr.
if (args.Length == 0)
{
    Console.Error.WriteLine("usage: Dataflow.Mpi.Probe collectives | stall-idle | stall-stopped | exit-early | throw-early | killed | bench <floats>...");
    return 1;
}
try
{
    return args[0] switch
    {
        "collectives" => CollectivesMode.Run(),
        "stall-idle" => StallModes.Idle(),
        "stall-stopped" => StallModes.Stopped(),
        "exit-early" => StallModes.ExitEarly(),
        "killed" => StallModes.Killed(),
        "throw-early" => StallModes.ThrowEarly(),
        "bench" => BenchMode.Run(args[1..]),
        _ => throw new ArgumentException($"unknown mode '{args[0]}'"),
    };
}
catch (Exception e) when (e is Dataflow.Mpi.MpiException or Dataflow.Mpi.MpiUnavailableException or ProbeFailure or ArgumentException)
{
    Console.Error.WriteLine("probe: " + e.Message);
    return 1;
}
