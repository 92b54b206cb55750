using System.Diagnostics;

namespace Dataflow.Mpi.Tests;

/// <summary>
/// Launches the probe on N ranks with OpenMPI's mpirun, on shared memory only, and kills the whole
/// job if it outlives the limit: a hang fails the test instead of hanging the suite.
/// </summary>
internal static class MpiRun
{
    /// <param name="RankExitCodes">each rank's own exit code, by rank (only from <see cref="ProbeRecordingEachRank"/>)</param>
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, IReadOnlyDictionary<int, int> RankExitCodes)
    {
        public override string ToString() =>
            $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s; ranks' exits: {string.Join(", ", RankExitCodes.OrderBy(r => r.Key).Select(r => $"{r.Key}: {r.Value}"))}\n" +
            $"stdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(60);

    public static Result Probe(int ranks, params string[] args) => Launch(ranks, [], args, statusFolder: null);

    /// <summary>
    /// As <see cref="Probe"/>, with extra mpirun flags, each rank started by a shell that records the
    /// rank's exit code in a file: mpirun's own exit code does not always say how each rank ended.
    /// </summary>
    public static Result ProbeRecordingEachRank(int ranks, string[] mpirunFlags, params string[] args)
    {
        var folder = Directory.CreateTempSubdirectory("mpi-ranks-");
        try
        {
            return Launch(ranks, mpirunFlags, args, folder.FullName);
        }
        finally
        {
            folder.Delete(recursive: true);
        }
    }

    private static Result Launch(int ranks, string[] mpirunFlags, string[] args, string? statusFolder)
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
        string[] wrapper = statusFolder is null ? [] : ["/bin/sh", RecordingShell(statusFolder)];
        foreach (var flag in (string[])["--allow-run-as-root", "--oversubscribe", .. mpirunFlags, "-np", ranks.ToString(), .. wrapper, "dotnet", ProbePath()])
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
        var exits = new Dictionary<int, int>();
        if (statusFolder is not null)
            foreach (var file in Directory.GetFiles(statusFolder, "rank-*.exit"))
                exits[int.Parse(Path.GetFileNameWithoutExtension(file)[5..])] = int.Parse(File.ReadAllText(file).Trim());
        return new Result(process.ExitCode, stdout.Result, stderr.Result, clock.Elapsed, exits);
    }

    // Runs the rank's command, writes its exit code (128 + the signal when killed) to rank-R.exit, and exits with it.
    private static string RecordingShell(string folder)
    {
        var script = Path.Combine(folder, "record-exit.sh");
        File.WriteAllText(script, $"\"$@\"\nstatus=$?\necho $status > '{folder}/rank-'\"$OMPI_COMM_WORLD_RANK\".exit\nexit $status\n");
        return script;
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
