using System.CommandLine;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Jobs;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Commands;

namespace Dataflow.Runner.Bench;

/// <summary>
/// <c>dataflow bench gpt-train | mlp-train</c>: training steps of each scenario, fused and unfused
/// (<see cref="TrainBench"/>), as a table, or with --json one flat object per scenario and
/// configuration (<see cref="TrainBenchReport"/>).
/// </summary>
public static class TrainBenchCommand
{
    public static Command Create(string name, string description, IReadOnlyList<TrainScenario> scenarios)
    {
        var steps = new Option<int?>("--steps") { Description = $"Timed steps per round and configuration (default per scenario: {Defaults(scenarios, s => s.Steps)})" };
        var rounds = new Option<int?>("--rounds") { Description = $"Rounds per configuration, interleaved fused, unfused, fused, … (default {Defaults(scenarios, s => s.Rounds)})" };
        var batchOption = new Option<int?>("--batch") { Description = $"Batch size (default {Defaults(scenarios, s => s.Batch)})" };
        var model = new Option<string?>("--model") { Description = $"Model file (default: graph/models/{scenarios[0].ModelFile} of this checkout)" };
        var top = new Option<int>("--top") { Description = "Also list this many slowest kernels", DefaultValueFactory = _ => 8 };
        var onlyFused = new Option<bool>("--fused-only") { Description = "Skip the --no-fusion reference (faster; no ratio)" };
        var scenario = new Option<string?>("--scenario") { Description = $"Run only this scenario: {string.Join(" | ", scenarios.Select(s => s.Name))} (default: all)" };
        scenario.AcceptOnlyFromAmong([.. scenarios.Select(s => s.Name)]);
        var json = new Option<bool>("--json") { Description = "One JSON object per scenario and configuration on stdout, a line each (the table goes to stderr)" };
        var (set, seed, backend) = (CommonOptions.Set(), CommonOptions.Seed(), CommonOptions.Backend());
        var command = new Command(name, description) { steps, rounds, batchOption, model, top, onlyFused, set, seed, json, backend };
        if (scenarios.Count > 1) command.Add(scenario);
        command.SetAction(r =>
        {
            var output = r.GetValue(json) ? Console.Error : Console.Out;
            var chosen = r.GetValue(scenario) is { } only ? scenarios.Where(s => s.Name == only) : scenarios;
            foreach (var s in chosen)
            {
                var run = s.With(r.GetValue(steps), r.GetValue(rounds), r.GetValue(batchOption), r.GetValue(set) ?? []);
                string path = r.GetValue(model) ?? Path.Combine(DemoCommand.RepositoryRoot(), "graph", "models", s.ModelFile);
                output.WriteLine($"{name} {s.Name}: {Path.GetFileName(path)} --set {string.Join(' ', run.Overrides)}; {string.Join(", ", run.Bindings.Select(b => $"{b.Key}={b.Value}"))}; " +
                    $"{run.Rounds} rounds × {run.Steps} steps per configuration, {JobSystem.Shared.WorkerCount} threads");
                var results = Measure(s, run, path, fusedOnly: r.GetValue(onlyFused), r.GetValue(top), r.GetValue(seed), r.GetValue(backend)!);
                double peak = FmaPeak.Measure(JobSystem.Shared.WorkerCount);
                TrainBenchReport.Print(output, results, peak);
                if (r.GetValue(json))
                    foreach (var result in results) Console.WriteLine(TrainBenchReport.Json(s.Name, run, result, results, peak).ToJsonString());
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static string Defaults(IReadOnlyList<TrainScenario> scenarios, Func<TrainScenario, int> value) =>
        string.Join(", ", scenarios.Select(s => scenarios.Count > 1 ? $"{s.Name} {value(s)}" : $"{value(s)}"));

    /// <summary>The scenario's configurations, warmed up and timed, interleaved unless the scenario runs them one at a time.</summary>
    private static List<TrainBenchResult> Measure(TrainScenario s, TrainRun run, string path, bool fusedOnly, int top, int seed, string backend)
    {
        var options = new List<(string Label, CompileOptions Options)> { ("fused", CompileOptions.Default) };
        if (!fusedOnly) options.Add(("unfused", CompileOptions.Default with { Fusion = false }));
        TrainBench Open((string Label, CompileOptions Options) o) => new(o.Label, path, run.Overrides, run.Bindings, o.Options, seed, backend);
        // Warm-up, not timed: the JIT tiers the kernels' code up over the first dozens of calls, and
        // the configuration that runs first would otherwise pay it for both.
        TrainBenchResult Finish(TrainBench c) => c.Result(profiledSteps: Math.Max(1, Math.Min(s.ProfiledSteps, run.Steps * run.Rounds)), top);
        if (s.OneAtATime)
            return [.. options.Select(o =>
            {
                using var c = Open(o);
                c.WarmUp(run.Steps);
                for (int i = 0; i < run.Rounds; i++) c.Round(run.Steps);
                return Finish(c);
            })];
        var configs = new List<TrainBench>();
        try
        {
            foreach (var o in options) configs.Add(Open(o));
            foreach (var c in configs) c.WarmUp(run.Steps);
            for (int i = 0; i < run.Rounds; i++)
                foreach (var c in configs) c.Round(run.Steps);
            return [.. configs.Select(Finish)];
        }
        finally
        {
            foreach (var c in configs) c.Dispose();
        }
    }
}
