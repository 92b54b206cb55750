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
    public static Command Create()
    {
        var command = new Command("bench", "Measure the CPU backend: matmul GFLOP/s against the FMA peak, training steps of GPT and MLP models")
        {
            MatMul(),
            GemmBenchCommand.Create(),
            TrainBenchCommand.Create("gpt-train", "Training steps of GPT on random tokens: nanoGPT's CPU baby (4 layers, 4 heads, d 128, T 64, B 12, vocab 65) and GPT-2 124M (B 4, T 64), fused and unfused",
                TrainScenario.Gpt),
            TrainBenchCommand.Create("mlp-train", "Training steps of the Fashion-MNIST MLP (784-512-256-10, batch 128) on random images", [TrainScenario.Mlp]),
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
        // A batch-16 decode step of the 15M shape (bench gpt-generate): one token per sequence through each projection, weights warm in cache here.
        ("15m b16 qkv [16,288]x[288,864]", 1, 16, 864, 288, false, false),
        ("15m b16 fc [16,288]x[288,1152]", 1, 16, 1152, 288, false, false),
        ("15m b16 proj [16,1152]x[1152,288]", 1, 16, 288, 1152, false, false),
        ("15m b16 unembed [16,288]x[32000,288] (Bᵀ)", 1, 16, 32000, 288, false, true),
        // A 64-token prompt's prefill (the time to first token): 64 rows through each projection.
        ("15m prefill fc [64,288]x[288,1152]", 1, 64, 1152, 288, false, false),
        ("15m prefill proj [64,1152]x[1152,288]", 1, 64, 288, 1152, false, false),
        ("110m prefill qkv [64,768]x[768,2304]", 1, 64, 2304, 768, false, false),
        ("110m prefill proj [64,3072]x[3072,768]", 1, 64, 768, 3072, false, false),
    ];
}
