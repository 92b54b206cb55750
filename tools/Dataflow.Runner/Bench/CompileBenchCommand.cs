using System.CommandLine;
using System.Diagnostics;
using System.Text.Json.Nodes;
using Dataflow.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Commands;
using Dataflow.Training;

namespace Dataflow.Runner.Bench;

/// <summary>
/// <c>dataflow bench compile</c>: how long compiling a model's training graph takes on a backend
/// (GPT-2 124M by default), system by system, with nothing run. Each repetition opens a fresh
/// backend, so its in-memory kernel cache is cold; on-disk caches (the SPIR-V cache, PoCL's) are the
/// caller's to clear (<c>DATAFLOW_SPIRV_CACHE</c>, <c>POCL_KERNEL_CACHE=0</c>).
/// </summary>
public static class CompileBenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Model file (default: graph/models/gpt.dfg of this checkout)" };
        var preset = new Option<string?>("--preset") { Description = "Preset of the model (default: gpt2, with --model unset)" };
        var batch = new Option<int>("--batch") { Description = "Batch size bound to B", DefaultValueFactory = _ => 1 };
        var context = new Option<int?>("--context") { Description = "Sequence length bound to T (default: the model's ctx)" };
        var repeat = new Option<int>("--repeat") { Description = "Compilations, each on a fresh backend", DefaultValueFactory = _ => 1 };
        var (set, json, backend) = (CommonOptions.Set(), CommonOptions.Json(), CommonOptions.Backend());
        var command = new Command("compile", "Time to compile a model's training graph (GPT-2 124M by default) on a backend, per compile system")
        {
            model, preset, batch, context, repeat, set, json, backend,
        };
        command.SetAction(r =>
        {
            var output = r.GetValue(json) ? Console.Error : Console.Out;
            string? modelPath = r.GetValue(model);
            string path = modelPath ?? Path.Combine(DemoCommand.RepositoryRoot(), "graph", "models", "gpt.dfg");
            string? presetName = r.GetValue(preset) ?? (modelPath is null ? "gpt2" : null);
            var loaded = ModelLoader.Load(path, CommonOptions.ModelOptions(presetName, r.GetValue(set), training: true));
            var bindings = new Dictionary<string, long> { ["B"] = r.GetValue(batch) };
            if (r.GetValue(context) is { } t) bindings["T"] = t;
            else if (loaded.Settings.TryGetValue("ctx", out var ctx)) bindings["T"] = (long)ctx;
            var optimizer = OptimizerSettings.From(loaded.Training, learningRate: null);
            var training = StepGraph.ForTraining(loaded.Graph, withGradNorm: optimizer.ClipNorm > 0);

            var runs = new JsonArray();
            output.WriteLine($"compile: {Path.GetFileName(path)}{(presetName is null ? "" : " --preset " + presetName)}, {loaded.Graph.ParameterCount():N0} parameters, " +
                $"{string.Join(", ", bindings.Select(b => $"{b.Key}={b.Value}"))}, backend {r.GetValue(backend)}");
            for (int i = 0; i < Math.Max(1, r.GetValue(repeat)); i++)
            {
                using var session = new Session(BackendCatalog.Create(r.GetValue(backend)!), seed: 1, CompileOptions.Default) { Optimizer = optimizer };
                session.DeclareParameters(loaded.Graph);
                var clock = Stopwatch.StartNew();
                var compiled = session.Compile(training, bindings);
                double total = clock.Elapsed.TotalMilliseconds;
                var systems = new JsonObject();
                foreach (var (system, elapsed) in compiled.CompileTimings) systems[system] = elapsed.TotalMilliseconds;
                output.WriteLine($"  run {i + 1}: {compiled.KernelCount} kernels in {total:F0} ms (" +
                    string.Join(", ", compiled.CompileTimings.Select(t => $"{t.System.Replace("System", "")} {t.Elapsed.TotalMilliseconds:F0}")) + ")");
                runs.Add(new JsonObject { ["kernels"] = compiled.KernelCount, ["total_ms"] = total, ["systems_ms"] = systems });
            }
            if (r.GetValue(json)) Console.WriteLine(new JsonObject { ["model"] = path, ["preset"] = presetName, ["backend"] = r.GetValue(backend), ["runs"] = runs }.ToJsonString());
            return ExitCodes.Ok;
        });
        return command;
    }
}
