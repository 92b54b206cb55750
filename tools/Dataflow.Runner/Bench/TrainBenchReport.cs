using System.Text.Json.Nodes;

namespace Dataflow.Runner.Bench;

/// <summary>How <c>bench gpt-train | mlp-train</c> shows its results: the human table, and one flat JSON object per configuration.</summary>
public static class TrainBenchReport
{
    public static void Print(TextWriter output, IReadOnlyList<TrainBenchResult> results, double peak)
    {
        output.WriteLine($"{"config",-10} {"kernels",8} {"ms/step",9} {"best",8} {"profiled",9} {"Σ kernel best",14} {"outside",8} {"alloc B/step",13} {"matmul GFLOP/s",15} {"of FMA peak",12} {"loss first→last",18}");
        foreach (var r in results)
        {
            double rate = r.MatMulGflopPerStep / (r.BestMsPerStep / 1000);
            output.WriteLine($"{r.Label,-10} {r.Kernels,8} {r.MsPerStep,9:F2} {r.BestMsPerStep,8:F2} {r.ProfiledMsPerStep,9:F2} {r.KernelBestSumMs,14:F2} {r.OutsideKernelsMs,8:F2} {r.AllocatedBytesPerStep,13:F0} " +
                $"{rate,15:F1} {rate / peak,12:P1} {$"{r.FirstLoss:F4}→{r.LastLoss:F4}",18}");
        }
        if (results.Count > 1)
            output.WriteLine($"fused / unfused: ms/step {results[0].MsPerStep / results[1].MsPerStep:F3}, best rounds {results[0].BestMsPerStep / results[1].BestMsPerStep:F3}, " +
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

    /// <summary>
    /// One configuration of one scenario as a flat object: <c>ms_per_step</c> is the median of the timed
    /// rounds, <c>allocations_per_step</c> the median over rounds of the managed bytes a timed step allocated.
    /// </summary>
    public static JsonObject Json(string scenario, TrainRun run, TrainBenchResult r, IReadOnlyList<TrainBenchResult> all, double peak)
    {
        var json = new JsonObject
        {
            ["scenario"] = scenario,
            ["config"] = r.Label,
            ["ms_per_step"] = r.MsPerStep,
            ["kernels_per_step"] = r.Kernels,
            ["allocations_per_step"] = Number(r.AllocatedBytesPerStep),
            ["best_ms_per_step"] = r.BestMsPerStep,
            ["profiled_ms_per_step"] = r.ProfiledMsPerStep,
            ["kernel_best_sum_ms"] = r.KernelBestSumMs,
            ["outside_kernels_ms"] = Number(r.OutsideKernelsMs),
            ["matmul_gflop_per_step"] = r.MatMulGflopPerStep,
            ["fma_peak_gflops"] = peak,
            ["first_loss"] = Number(r.FirstLoss),
            ["last_loss"] = Number(r.LastLoss),
            ["steps"] = run.Steps,
            ["rounds"] = run.Rounds,
            ["set"] = string.Join(' ', run.Overrides),
        };
        foreach (var (name, value) in run.Bindings) json[name] = value;
        if (all.Count > 1 && !ReferenceEquals(r, all[0])) json["fused_over_unfused"] = all[0].MsPerStep / r.MsPerStep;
        return json;
    }

    private static JsonNode? Number(double value) => double.IsFinite(value) ? value : null;
}
