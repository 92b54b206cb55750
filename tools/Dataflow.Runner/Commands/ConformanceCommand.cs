using System.CommandLine;
using Dataflow.Conformance;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow conformance [--op NAME] [--backend NAME] [--json]</c>: runs the backend conformance
/// suite (every op, op by op and fused, against the CPU reference) and prints the op × backend
/// table. Exit 0 when everything that ran passed and every expected backend was present, else 1.
/// </summary>
public static class ConformanceCommand
{
    public static Command Create()
    {
        var op = new Option<string?>("--op") { Description = "Only cases of this op (a catalog name such as matmul, or fused / model)" };
        var backend = new Option<string?>("--backend") { Description = "Only this backend (" + string.Join(", ", ConformanceBackends.Names) + ")" };
        var json = CommonOptions.Json();
        var command = new Command("conformance", "Check every op on every present backend against the CPU reference") { op, backend, json };
        command.SetAction(parseResult =>
        {
            var filter = new ConformanceFilter(parseResult.GetValue(op), parseResult.GetValue(backend));
            if (filter.Backend is { } name && !ConformanceBackends.Names.Contains(name, StringComparer.OrdinalIgnoreCase))
                throw new UsageException($"--backend {name}: unknown backend (known: {string.Join(", ", ConformanceBackends.Names)})");
            if (filter.Op is { } opName && !ConformanceSuite.Cases.Any(filter.Matches))
                throw new UsageException($"--op {opName}: no conformance case covers it (ops: {string.Join(", ", ConformanceSuite.Cases.Select(c => c.Op).Distinct())})");

            var report = ConformanceSuite.Run(filter);
            if (parseResult.GetValue(json))
            {
                Console.Error.Write(report.Format());
                Console.WriteLine(report.ToJson().ToJsonString());
            }
            else Console.Write(report.Format());
            return report.Failures == 0 ? ExitCodes.Ok : ExitCodes.BadInput;
        });
        return command;
    }
}
