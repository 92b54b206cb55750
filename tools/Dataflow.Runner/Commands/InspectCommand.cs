using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow inspect MODEL.dfg | CHECKPOINT</c>: a model's layers, shapes and parameter counts
/// (inferred statically, no weights allocated, so any size is instant), or a checkpoint's header and tensors.
/// </summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var path = new Argument<string>("path") { Description = "A .dfg model file or a checkpoint" };
        var preset = CommonOptions.Preset();
        var set = CommonOptions.Set();
        var json = CommonOptions.Json();
        var allowNonFinite = new Option<bool>("--allow-non-finite") { Description = "Show a checkpoint whose tensors hold NaN or ±∞ (every other verb refuses to load one)" };
        var command = new Command("inspect", "Show a model's layers and parameter counts, or a checkpoint's contents") { path, preset, set, json, allowNonFinite };
        command.SetAction(result =>
        {
            var target = result.GetValue(path)!;
            if (target.EndsWith(".dfg", StringComparison.OrdinalIgnoreCase))
                InspectModel(target, result.GetValue(preset), result.GetValue(set), result.GetValue(json));
            else
                InspectCheckpoint(target, result.GetValue(json), new CheckpointLoadOptions(AllowNonFinite: result.GetValue(allowNonFinite)));
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void InspectModel(string path, string? preset, string[]? overrides, bool json)
    {
        var model = ModelLoader.Load(path, CommonOptions.ModelOptions(preset, overrides, training: false) with { CountOnly = true });
        var graph = model.Graph;
        long total = graph.ParameterCount();
        var byKind = graph.ParameterCountByCategory().ToDictionary(c => c.Key.ToString().ToLowerInvariant(), c => c.Value);

        if (json)
        {
            var layers = new JsonArray(graph.Layers.Select(l => (JsonNode)new JsonObject
            {
                ["name"] = l.Name, ["kind"] = l.Kind, ["output"] = l.Output.ToString(), ["parameters"] = l.Parameters,
            }).ToArray());
            var by = new JsonObject();
            foreach (var (kind, count) in byKind) by[kind] = count;
            var settings = new JsonObject();
            foreach (var (name, value) in model.Settings) settings[name] = value;
            Console.WriteLine(new JsonObject
            {
                ["model"] = model.Name, ["parameters"] = total, ["by_kind"] = by, ["settings"] = settings, ["layers"] = layers,
            }.ToJsonString());
            return;
        }

        Console.WriteLine($"model {model.Name} ({path})");
        Console.WriteLine("  " + string.Join(", ", model.Settings.Select(s => $"{s.Key}={CommonOptions.Format(s.Value)}")));
        foreach (var (name, input) in graph.Inputs) Console.WriteLine($"  input  {name,-20} {input.Type}");
        Console.WriteLine();
        Console.WriteLine($"  {"layer",-36} {"kind",-14} {"output",-28} {"parameters",14}");
        foreach (var layer in graph.Layers)
            Console.WriteLine($"  {layer.Name,-36} {layer.Kind,-14} {layer.Output,-28} {layer.Parameters,14:N0}");
        Console.WriteLine();
        foreach (var (kind, count) in byKind.OrderByDescending(k => k.Value))
            Console.WriteLine($"  {kind,-12} {count,16:N0}  {100.0 * count / Math.Max(1, total),5:F1}%");
        Console.WriteLine($"  {"total",-12} {total,16:N0}");
    }

    private static void InspectCheckpoint(string path, bool json, CheckpointLoadOptions options)
    {
        var checkpoint = CheckpointReader.Load(path, options);
        var h = checkpoint.Header;
        if (json)
        {
            var config = new JsonObject();
            foreach (var (k, v) in h.Config) config[k] = v;
            Console.WriteLine(new JsonObject
            {
                ["format"] = h.Format, ["version"] = h.Version, ["graph"] = h.GraphName, ["layout_hash"] = h.LayoutHash,
                ["step"] = h.Step, ["created"] = h.Created.ToString("O"), ["config"] = config,
                ["parameters"] = checkpoint.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)),
                ["tensors"] = new JsonArray(checkpoint.Tensors.Concat(checkpoint.OptimizerState).Select(t => (JsonNode)new JsonObject
                {
                    ["name"] = t.Name, ["dtype"] = t.DType.ToString().ToLowerInvariant(), ["shape"] = new JsonArray(t.Shape.Select(d => (JsonNode)d).ToArray()),
                }).ToArray()),
            }.ToJsonString());
            return;
        }
        Console.WriteLine($"checkpoint {path}");
        Console.WriteLine($"  format   {h.Format} v{h.Version}");
        Console.WriteLine($"  graph    {h.GraphName} (layout {h.LayoutHash})");
        Console.WriteLine($"  step     {h.Step}");
        Console.WriteLine($"  created  {h.Created:O}");
        foreach (var (k, v) in h.Config.OrderBy(c => c.Key)) Console.WriteLine($"  config   {k} = {v}");
        if (checkpoint.TokenizerJson is not null) Console.WriteLine("  tokenizer included");
        Console.WriteLine();
        foreach (var t in checkpoint.Tensors) Console.WriteLine($"  {t.Name,-40} {t.DType.ToString().ToLowerInvariant()}[{string.Join(", ", t.Shape)}]");
        foreach (var t in checkpoint.OptimizerState) Console.WriteLine($"  {t.Name,-40} {t.DType.ToString().ToLowerInvariant()}[{string.Join(", ", t.Shape)}]  (optimizer)");
        Console.WriteLine($"  {checkpoint.Tensors.Sum(t => t.Shape.Aggregate(1L, (a, b) => a * b)):N0} parameters");
    }
}
