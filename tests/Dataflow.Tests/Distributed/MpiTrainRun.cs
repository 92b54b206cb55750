using System.Diagnostics;

namespace Dataflow.Tests.Distributed;

/// <summary>
/// The built runner launched as N ranks by OpenMPI's mpirun, the way a user launches it: shared
/// memory only (OMPI_MCA_btl=self,vader), more ranks than cores allowed, no terminal codes, and the
/// whole job killed if it outlives <see cref="Limit"/>, so a hang fails the test instead of the suite.
/// </summary>
internal sealed class MpiTrainRun : IDisposable
{
    // The baby GPT's 200 steps on 2 ranks take about 70 s when the shared machine is busy with other tests.
    public static readonly TimeSpan Limit = TimeSpan.FromSeconds(120);

    private readonly Process _process;
    private readonly Task<string> _stdout, _stderr;
    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private readonly DirectoryInfo? _statusFolder;

    /// <param name="RankExitCodes">each rank's own exit code, by rank (only from <see cref="StartRecordingEachRank"/>)</param>
    public sealed record Result(int ExitCode, string Stdout, string Stderr, TimeSpan Elapsed, IReadOnlyDictionary<int, int> RankExitCodes)
    {
        public override string ToString() =>
            $"exit {ExitCode} after {Elapsed.TotalSeconds:F1} s; ranks' exits: {string.Join(", ", RankExitCodes.OrderBy(r => r.Key).Select(r => $"{r.Key}: {r.Value}"))}\n" +
            $"stdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    private MpiTrainRun(int ranks, string[] args, string[]? mpirunFlags = null, bool recordEachRank = false)
    {
        // A shell starts each rank and writes its exit code (128 + the signal when killed) to rank-R.exit:
        // mpirun's own exit code does not always say how each rank ended.
        string[] wrapper = [];
        if (recordEachRank)
        {
            _statusFolder = Directory.CreateTempSubdirectory("mpi-ranks-");
            var script = Path.Combine(_statusFolder.FullName, "record-exit.sh");
            File.WriteAllText(script, $"\"$@\"\nstatus=$?\necho $status > '{_statusFolder.FullName}/rank-'\"$OMPI_COMM_WORLD_RANK\".exit\nexit $status\n");
            wrapper = ["/bin/sh", script];
        }
        var start = new ProcessStartInfo("mpirun") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        start.Environment["OMPI_MCA_btl"] = "self,vader";
        start.Environment["TERM"] = "dumb";
        foreach (var flag in (string[])["--allow-run-as-root", "--oversubscribe", .. mpirunFlags ?? [], "-np", ranks.ToString(), .. wrapper, "dotnet", Path.Combine(AppContext.BaseDirectory, "dataflow.dll")])
            start.ArgumentList.Add(flag);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        // mpirun missing is a failure, not a skip: tools/setup installs openmpi-bin.
        _process = Process.Start(start) ?? throw new InvalidOperationException("mpirun did not start");
        _stdout = _process.StandardOutput.ReadToEndAsync();
        _stderr = _process.StandardError.ReadToEndAsync();
    }

    public static MpiTrainRun Start(int ranks, params string[] args) => new(ranks, args);

    /// <summary>As <see cref="Start"/>, with extra mpirun flags, each rank's own exit code recorded in <see cref="Result.RankExitCodes"/>.</summary>
    public static MpiTrainRun StartRecordingEachRank(int ranks, string[] mpirunFlags, params string[] args) => new(ranks, args, mpirunFlags, recordEachRank: true);

    public static Result Run(int ranks, params string[] args)
    {
        using var run = Start(ranks, args);
        return run.Wait();
    }

    public bool HasExited => _process.HasExited;

    public Result Wait()
    {
        if (!_process.WaitForExit(Limit - _clock.Elapsed))
        {
            _process.Kill(entireProcessTree: true);
            _process.WaitForExit();
            Assert.Fail($"mpirun ran past {Limit.TotalSeconds} s and was killed\nstdout:\n{_stdout.Result}\nstderr:\n{_stderr.Result}");
        }
        var exits = new Dictionary<int, int>();
        if (_statusFolder is not null)
            foreach (var file in Directory.GetFiles(_statusFolder.FullName, "rank-*.exit"))
                exits[int.Parse(Path.GetFileNameWithoutExtension(file)[5..])] = int.Parse(File.ReadAllText(file).Trim());
        return new Result(_process.ExitCode, _stdout.Result, _stderr.Result, _clock.Elapsed, exits);
    }

    /// <summary>The process id of one rank: the descendant of mpirun whose environment says OMPI_COMM_WORLD_RANK=rank (Linux /proc).</summary>
    public int? RankProcess(int rank)
    {
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out int pid) || !DescendsFromMpirun(pid)) continue;
            try
            {
                var environment = File.ReadAllText(Path.Combine(dir, "environ")).Split('\0');
                var command = File.ReadAllText(Path.Combine(dir, "cmdline")).Split('\0');
                // The dotnet process itself, not the shell that records its exit code.
                if (environment.Contains($"OMPI_COMM_WORLD_RANK={rank}") && command[0].EndsWith("dotnet", StringComparison.Ordinal) && command.Any(a => a.EndsWith("dataflow.dll", StringComparison.Ordinal))) return pid;
            }
            catch (IOException) { } // the process ended while we looked
            catch (UnauthorizedAccessException) { }
        }
        return null;
    }

    private bool DescendsFromMpirun(int pid)
    {
        for (int depth = 0; depth < 8 && pid > 1; depth++)
        {
            if (pid == _process.Id) return depth > 0;
            try
            {
                var stat = File.ReadAllText($"/proc/{pid}/stat");
                pid = int.Parse(stat[(stat.LastIndexOf(')') + 2)..].Split(' ')[1]);    // the field after the state: the parent
            }
            catch (IOException) { return false; }
        }
        return false;
    }

    public void Dispose()
    {
        if (!_process.HasExited) _process.Kill(entireProcessTree: true);
        _process.Dispose();
        _statusFolder?.Delete(recursive: true);
    }
}
