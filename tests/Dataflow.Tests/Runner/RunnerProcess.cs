using System.Diagnostics;

namespace Dataflow.Tests.Runner;

/// <summary>
/// Runs the built <c>dataflow</c> runner as a separate process, the way a user does, so exit
/// codes and what lands on stdout and stderr are tested exactly.
/// </summary>
internal static class RunnerProcess
{
    public sealed record Result(int ExitCode, string Stdout, string Stderr)
    {
        public override string ToString() => $"exit {ExitCode}\nstdout:\n{Stdout}\nstderr:\n{Stderr}";
    }

    public static Result Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    public static Result RunWith(IReadOnlyDictionary<string, string> environment, params string[] args) => RunWithInput(environment, null, args);

    /// <summary>As <see cref="RunWith"/>, with <paramref name="stdin"/> piped in (then closed) when it is not null.</summary>
    public static Result RunWithInput(IReadOnlyDictionary<string, string> environment, string? stdin, params string[] args)
    {
        var runner = Path.Combine(AppContext.BaseDirectory, "dataflow.dll");
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment) start.Environment[name] = value;
        start.ArgumentList.Add(runner);
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start)!;
        if (stdin is not null)
        {
            process.StandardInput.Write(stdin);
            process.StandardInput.Close();
        }
        var stdout = process.StandardOutput.ReadToEndAsync();
        var stderr = process.StandardError.ReadToEndAsync();
        process.WaitForExit();
        return new Result(process.ExitCode, stdout.Result, stderr.Result);
    }

    public static string Model(string fileName) => Dsl.DslTestSupport.ModelPath(fileName);
}
