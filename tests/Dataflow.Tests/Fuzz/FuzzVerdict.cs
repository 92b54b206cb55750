using System.Diagnostics;

namespace Dataflow.Tests.Fuzz;

/// <summary>
/// Runs one fuzz case as a user would (the built runner, its own process, a time limit) and says
/// what, if anything, is wrong with how it ended: an exit code other than 0 or 1, a stack trace or
/// "internal error" on stderr, or more time than the case is allowed (a hang).
/// </summary>
internal static class FuzzVerdict
{
    public sealed record Outcome(int ExitCode, string Stderr, TimeSpan Elapsed, bool TimedOut);

    public static Outcome Run(IReadOnlyList<string> args, TimeSpan limit, string workingDirectory)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory,
        };
        start.Environment["DOTNET_TieredPGO"] = "0";       // short-lived processes: skip the instrumentation tier
        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "dataflow.dll"));
        foreach (var arg in args) start.ArgumentList.Add(arg);
        var clock = Stopwatch.StartNew();
        using var process = Process.Start(start)!;
        process.StandardInput.Close();
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        bool exited = process.WaitForExit(limit);
        if (!exited)
        {
            try { process.Kill(entireProcessTree: true); } catch (InvalidOperationException) { /* it ended meanwhile */ }
            process.WaitForExit();
        }
        _ = stdout.Result;
        return new Outcome(exited ? process.ExitCode : -1, stderr.Result, clock.Elapsed, !exited);
    }

    /// <summary>Null when the outcome is acceptable, else what is wrong with it.</summary>
    public static string? Fault(Outcome outcome, TimeSpan limit)
    {
        if (outcome.TimedOut) return $"still running after {limit.TotalSeconds:F0} s (killed)";
        if (outcome.ExitCode is not (0 or 1)) return $"exit {outcome.ExitCode}";
        if (outcome.Stderr.Contains("   at ", StringComparison.Ordinal)) return "a stack trace on stderr";
        if (outcome.Stderr.Contains("internal error", StringComparison.Ordinal)) return "'internal error' on stderr";
        if (outcome.Stderr.Contains("Unhandled exception", StringComparison.Ordinal)) return "an unhandled exception";
        return null;
    }

    /// <summary>How many cases a fuzz test runs: its CI default, or DATAFLOW_FUZZ_CASES for a longer hunt.</summary>
    public static int CaseCount(int ciDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("DATAFLOW_FUZZ_CASES"), out int n) && n > 0 ? n : ciDefault;

    /// <summary>The seed of a fuzz run: fixed in CI so a failure reproduces, DATAFLOW_FUZZ_SEED to explore others.</summary>
    public static int Seed(int ciDefault) =>
        int.TryParse(Environment.GetEnvironmentVariable("DATAFLOW_FUZZ_SEED"), out int n) ? n : ciDefault;

    /// <summary>Runs the cases two at a time (the machine's cores) and collects every fault, with how to reproduce it.</summary>
    public static List<string> RunAll<TCase>(IReadOnlyList<TCase> cases, Func<TCase, string?> check)
    {
        var faults = new List<string>();
        Parallel.ForEach(cases, new ParallelOptions { MaxDegreeOfParallelism = 2 }, c =>
        {
            var fault = check(c);
            if (fault is not null) lock (faults) faults.Add(fault);
        });
        faults.Sort(StringComparer.Ordinal);
        return faults;
    }
}
