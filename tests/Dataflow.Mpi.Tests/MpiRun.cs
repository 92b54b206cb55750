using System.Diagnostics;

namespace Dataflow.Mpi.Tests;

/// <summary>
/// Launches the probe on N ranks with OpenMPI's mpirun, on shared memory only, and kills the whole
/// job if it outlives the limit: a hang fails the test instead of hanging the suite.
/// </summary>
internal static class MpiRun
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed)
    {
        public override string ToString() => $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static Result Probe(int ranks, params string[] args)
    {
        var mpirun = FindMpirun();
        var start = new ProcessStartInfo(mpirun)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        start.Environment["OMPI_MCA_btl"] = "self,vader";
        start.Environment["TERM"] = "dumb";
        foreach (var flag in new[] { "--allow-run-as-root", "--oversubscribe", "-np", ranks.ToString(), "dotnet", ProbePath() })
            start.ArgumentList.Add(flag);
        foreach (var arg in args) start.ArgumentList.Add(arg);

        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(Limit))
        {
            process.Kill(entireProcessTree: true);
            process.WaitForExit();
            Assert.Fail($"mpirun -np {ranks} probe {string.Join(' ', args)} ran past {Limit.TotalSeconds} s and was killed\n" +
                        $"stdout:\n{stdout.Result}\nstderr:\n{stderr.Result}");
        }
        return new Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed);
    }

    private static string ProbePath()
    {
        var probe = Path.Combine(AppContext.BaseDirectory, "Dataflow.Mpi.Probe.dll");
        Assert.True(File.Exists(probe), $"the probe was not built beside the tests: {probe}");
        return probe;
    }

    // Not finding mpirun is a failure, not a skip: tools/setup installs openmpi-bin.
    private static string FindMpirun()
    {
        var path = Environment.GetEnvironmentVariable("PATH") ?? "";
        foreach (var folder in path.Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(folder, "mpirun");
            if (File.Exists(candidate)) return candidate;
        }
        Assert.Fail("mpirun is not on PATH: install openmpi-bin and libopenmpi3 (run tools/setup)");
        return "";
    }
}
