using System.CommandLine;
using System.Text.Json.Nodes;
using Dataflow.Backends.Cpu;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Jobs;
using Dataflow.Runner.Bench;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow bench matmul | gemm | gpt-train | mlp-train | gpt-generate</c>: speed checks of the CPU backend. Every
/// number is printed next to a reference measured in the same run (the FMA peak of this machine,
/// or the same model without fusion), because absolute times on a shared machine mean little.
/// </summary>
public static class BenchCommand
{
    /// <summary>nanoGPT's CPU "baby" character-level configuration (dropout off).</summary>
    private static readonly string[] BabyGpt = ["vocab=65", "ctx=64", "d=128", "heads=4", "layers=4", "dropout=0"];

    public static Command Create()
    {
        var command = new Command("bench", "Measure the CPU backend: matmul GFLOP/s against the FMA peak, training steps of GPT and MLP models")
        {
            MatMul(),
            GemmBenchCommand.Create(),
            Train("gpt-train", "Training steps of nanoGPT's CPU baby GPT (4 layers, 4 heads, d 128, ctx 64, batch 12, vocab 65) on random tokens",
                "gpt.dfg", BabyGpt, batch: 12, context: 64),
            Train("mlp-train", "Training steps of the Fashion-MNIST MLP (784-512-256-10, batch 128) on random images",
                "mlp.dfg", ["dropout=0"], batch: 128, context: null),
            GenerateBenchCommand.Create(),
            CompileBenchCommand.Create(),
        };
        return command;
    }

    private static Command MatMul()
    {
        var seconds = new Option<double>("--seconds") { Description = "Time spent per size", DefaultValueFactory = _ => 0.3 };
        var json = CommonOptions.Json();
        var command = new Command("matmul", "Matmul GFLOP/s at several sizes, as a fraction of the machine's FMA peak measured in the same run") { seconds, json };
        command.SetAction(r =>
        {
            double time = r.GetValue(seconds);
            var output = r.GetValue(json) ? Console.Error : Console.Out;
            int threads = JobSystem.Shared.WorkerCount;
            double peakAll = FmaPeak.Measure(threads), peakOne = FmaPeak.Measure(1);
            output.WriteLine($"FMA peak: {peakAll:F1} GFLOP/s on {threads} threads ({peakOne:F1} on one)");
            output.WriteLine($"{"shape",-44} {"GFLOP/s",8} {"of peak",8}");
            var rows = new JsonArray();
            foreach (var (name, batch, m, n, k, ta, tb) in MatMulSizes)
            {
                double gflops = CpuMatMulBenchmark.Run(m, n, k, time, ta, tb, batch);
                output.WriteLine($"{name,-44} {gflops,8:F1} {gflops / peakAll,8:P0}");
                rows.Add(new JsonObject { ["shape"] = name, ["gflops"] = gflops, ["of_peak"] = gflops / peakAll });
            }
            // Peak again at the end: if the machine got busier meanwhile, the two peaks disagree and say so.
            double peakAfter = FmaPeak.Measure(threads);
            output.WriteLine($"FMA peak after: {peakAfter:F1} GFLOP/s");
            if (r.GetValue(json))
                Console.WriteLine(new JsonObject
                {
                    ["fma_peak_gflops"] = peakAll, ["fma_peak_gflops_one_thread"] = peakOne, ["fma_peak_gflops_after"] = peakAfter,
                    ["threads"] = threads, ["sizes"] = rows,
                }.ToJsonString());
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>Square sizes for the ceiling, then the shapes a baby GPT step actually runs.</summary>
    private static readonly (string Name, int Batch, int M, int N, int K, bool TransposeA, bool TransposeB)[] MatMulSizes =
    [
        ("square 256", 1, 256, 256, 256, false, false),
        ("square 512", 1, 512, 512, 512, false, false),
        ("square 1024", 1, 1024, 1024, 1024, false, false),
        ("gpt qkv [768,128]x[128,384]", 1, 768, 384, 128, false, false),
        ("gpt mlp fc [768,128]x[128,512]", 1, 768, 512, 128, false, false),
        ("gpt mlp proj [768,512]x[512,128]", 1, 768, 128, 512, false, false),
        ("gpt dW fc [128,768]x[768,512] (Aᵀ)", 1, 128, 512, 768, true, false),
        ("gpt dX fc [768,512]x[512,128] (Bᵀ)", 1, 768, 128, 512, false, true),
        ("gpt scores 48x[64,32]x[32,64] (Bᵀ)", 48, 64, 64, 32, false, true),
        ("gpt weights·v 48x[64,64]x[64,32]", 48, 64, 32, 64, false, false),
        ("gpt logits [768,128]x[128,65] (Bᵀ)", 1, 768, 65, 128, false, true),
    ];

    private static Command Train(string name, string description, string modelFile, string[] defaults, int batch, int? context)
    {
        var steps = new Option<int>("--steps") { Description = "Timed steps per round and configuration", DefaultValueFactory = _ => 20 };
        var rounds = new Option<int>("--rounds") { Description = "Interleaved rounds (fused, unfused, fused, …)", DefaultValueFactory = _ => 3 };
        var batchOption = new Option<int>("--batch") { Description = "Batch size", DefaultValueFactory = _ => batch };
        var model = new Option<string?>("--model") { Description = $"Model file (default: graph/models/{modelFile} of this checkout)" };
        var top = new Option<int>("--top") { Description = "Also list this many slowest kernels", DefaultValueFactory = _ => 8 };
        var onlyFused = new Option<bool>("--fused-only") { Description = "Skip the --no-fusion reference (faster; no ratio)" };
        var (set, seed, json, backend) = (CommonOptions.Set(), CommonOptions.Seed(), CommonOptions.Json(), CommonOptions.Backend());
        var command = new Command(name, description) { steps, rounds, batchOption, model, top, onlyFused, set, seed, json, backend };
        command.SetAction(r =>
        {
            var output = r.GetValue(json) ? Console.Error : Console.Out;
            string path = r.GetValue(model) ?? Path.Combine(DemoCommand.RepositoryRoot(), "graph", "models", modelFile);
            var overrides = defaults.Concat(r.GetValue(set) ?? []).ToArray();
            var settings = CommonOptions.ParseOverrides(overrides);
            var bindings = new Dictionary<string, long> { ["B"] = r.GetValue(batchOption) };
            if (context is not null) bindings["T"] = settings.TryGetValue("ctx", out var ctx) ? long.Parse(ctx) : context.Value;
            int stepCount = Math.Max(1, r.GetValue(steps)), roundCount = Math.Max(1, r.GetValue(rounds));

            var configs = new List<TrainBench> { new("fused", path, overrides, bindings, CompileOptions.Default, r.GetValue(seed), r.GetValue(backend)!) };
            if (!r.GetValue(onlyFused))
                configs.Add(new("no-fusion", path, overrides, bindings, CompileOptions.Default with { Fusion = false }, r.GetValue(seed), r.GetValue(backend)!));
            try
            {
                output.WriteLine($"{name}: {Path.GetFileName(path)} --set {string.Join(' ', overrides)}; {string.Join(", ", bindings.Select(b => $"{b.Key}={b.Value}"))}; " +
                    $"{roundCount} rounds × {stepCount} steps per configuration, {JobSystem.Shared.WorkerCount} threads");
                // Warm-up, not timed: the JIT tiers the kernels' code up over the first dozens of calls, and
                // the configuration that runs first would otherwise pay it for both.
                foreach (var c in configs) c.WarmUp(stepCount);
                for (int i = 0; i < roundCount; i++)
                    foreach (var c in configs) c.Round(stepCount);
                var results = configs.Select(c => c.Result(profiledSteps: Math.Max(3, stepCount / 2), r.GetValue(top))).ToList();
                double peak = FmaPeak.Measure(JobSystem.Shared.WorkerCount);
                Print(output, results, peak);
                if (r.GetValue(json)) Console.WriteLine(Json(name, bindings, overrides, results, peak).ToJsonString());
            }
            finally
            {
                foreach (var c in configs) c.Dispose();
            }
            return ExitCodes.Ok;
        });
        return command;
    }

    private static void Print(TextWriter output, IReadOnlyList<TrainBenchResult> results, double peak)
    {
        output.WriteLine($"{"config",-10} {"kernels",8} {"ms/step",9} {"best",8} {"profiled",9} {"Σ kernel best",14} {"matmul GFLOP/s",15} {"of FMA peak",12} {"loss first→last",18}");
        foreach (var r in results)
        {
            double rate = r.MatMulGflopPerStep / (r.BestMsPerStep / 1000);
            output.WriteLine($"{r.Label,-10} {r.Kernels,8} {r.MsPerStep,9:F2} {r.BestMsPerStep,8:F2} {r.ProfiledMsPerStep,9:F2} {r.KernelBestSumMs,14:F2} {rate,15:F1} {rate / peak,12:P1} {$"{r.FirstLoss:F4}→{r.LastLoss:F4}",18}");
        }
        if (results.Count > 1)
            output.WriteLine($"fused / no-fusion: ms/step {results[0].MsPerStep / results[1].MsPerStep:F3}, best rounds {results[0].BestMsPerStep / results[1].BestMsPerStep:F3}, " +
                $"Σ kernel best {results[0].KernelBestSumMs / results[1].KernelBestSumMs:F3}");
        output.WriteLine($"matmul work: {results[0].MatMulGflopPerStep:F2} GFLOP/step; FMA peak {peak:F1} GFLOP/s measured in this run");
        foreach (var r in results)
        {
            output.WriteLine($"breakdown ({r.Label}; per kernel kind, ms/step as mean and as the sum of per-kernel bests):");
            foreach (var b in r.Breakdown)
                output.WriteLine($"  {b.Kind,-52} {(b.Kernels > 0 ? b.Kernels.ToString() : ""),5} {b.MsPerStep,9:F3} ms {(double.IsNaN(b.BestMsPerStep) ? "" : $"{b.BestMsPerStep,9:F3} ms {b.BestMsPerStep / r.KernelBestSumMs,7:P1}")}");
            if (r.Slowest.Count > 0)
            {
                output.WriteLine($"slowest kernels ({r.Label}; best, mean):");
                foreach (var k in r.Slowest) output.WriteLine($"  {k.BestMsPerStep,8:F3} {k.MsPerStep,8:F3} ms  {k.Kind}");
            }
        }
    }

    private static JsonObject Json(string name, IReadOnlyDictionary<string, long> bindings, string[] overrides, IReadOnlyList<TrainBenchResult> results, double peak)
    {
        JsonArray Kinds(IEnumerable<KernelKindTime> kinds) =>
            [.. kinds.Select(k => (JsonNode)new JsonObject { ["kind"] = k.Kind, ["kernels"] = k.Kernels, ["ms_per_step"] = k.MsPerStep, ["best_ms_per_step"] = double.IsNaN(k.BestMsPerStep) ? null : k.BestMsPerStep })];
        var json = new JsonObject
        {
            ["bench"] = name,
            ["set"] = new JsonArray([.. overrides.Select(o => (JsonNode)o)]),
            ["bindings"] = new JsonObject(bindings.Select(b => KeyValuePair.Create(b.Key, (JsonNode?)b.Value))),
            ["fma_peak_gflops"] = peak,
            ["matmul_gflop_per_step"] = results[0].MatMulGflopPerStep,
            ["configs"] = new JsonArray([.. results.Select(r => (JsonNode)new JsonObject
            {
                ["config"] = r.Label, ["kernels"] = r.Kernels, ["ms_per_step"] = r.MsPerStep, ["best_ms_per_step"] = r.BestMsPerStep,
                ["profiled_ms_per_step"] = r.ProfiledMsPerStep, ["kernel_best_sum_ms"] = r.KernelBestSumMs, ["first_loss"] = r.FirstLoss, ["last_loss"] = r.LastLoss,
                ["breakdown"] = Kinds(r.Breakdown), ["slowest"] = Kinds(r.Slowest),
            })]),
        };
        if (results.Count > 1) json["fused_over_no_fusion"] = results[0].MsPerStep / results[1].MsPerStep;
        return json;
    }
}
