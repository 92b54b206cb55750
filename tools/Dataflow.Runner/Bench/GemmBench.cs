using System.Text.Json.Nodes;
using Dataflow.Backends.Cpu;
using Dataflow.Engine.Jobs;

namespace Dataflow.Runner.Bench;

/// <summary>One GEMM shape of <c>bench gemm</c>: C[batch,M,N] = A·B with optional transposes.</summary>
public sealed record GemmShape(string Name, int M, int N, int K, bool TransposeA = false, bool TransposeB = false, int Batch = 1);

/// <summary>One measured row: our GFLOP/s, OpenBLAS's (NaN when absent), and the largest difference between the two results.</summary>
public sealed record GemmResult(GemmShape Shape, int Threads, double Gflops, double OpenBlasGflops, double Peak, double MaxDifference)
{
    public double Ratio => Gflops / OpenBlasGflops;
    public double OfPeak => Gflops / Peak;
}

/// <summary>
/// The CPU backend's matmul against OpenBLAS's <c>cblas_sgemm</c> on the same inputs, in the same
/// process, on 1 thread and on all of them, each as a fraction of the FMA peak for that many threads.
/// Square sizes show the ceiling; the rest are the shapes the baby GPT (B 12, T 64, d 128) and
/// GPT-2 124M (B 4, T 64, so M = 256 rows) train with, forward and backward.
/// </summary>
public static class GemmBench
{
    public static readonly GemmShape[] Shapes =
    [
        new("square 256", 256, 256, 256),
        new("square 512", 512, 512, 512),
        new("square 1024", 1024, 1024, 1024),
        new("square 2048", 2048, 2048, 2048),
        new("gpt2 qkv x·W", 256, 2304, 768),
        new("gpt2 attn proj x·W", 256, 768, 768),
        new("gpt2 fc x·W", 256, 3072, 768),
        new("gpt2 fc proj x·W", 256, 768, 3072),
        new("gpt2 fc dX = dY·Wᵀ", 256, 768, 3072, TransposeB: true),
        new("gpt2 fc dW = Xᵀ·dY", 768, 3072, 256, TransposeA: true),
        new("gpt2 logits h·wteᵀ", 256, 50257, 768, TransposeB: true),
        new("gpt2 logits dh = dL·wte", 256, 768, 50257),
        new("gpt2 logits dwte = dLᵀ·h", 50257, 768, 256, TransposeA: true),
        new("baby qkv x·W", 768, 384, 128),
        new("baby fc x·W", 768, 512, 128),
        new("baby fc proj x·W", 768, 128, 512),
        new("baby fc dW = Xᵀ·dY", 128, 512, 768, TransposeA: true),
        new("baby fc dX = dY·Wᵀ", 768, 128, 512, TransposeB: true),
        new("baby scores 48×Q·Kᵀ", 64, 64, 32, TransposeB: true, Batch: 48),
        new("baby logits h·Wᵀ", 768, 65, 128, TransposeB: true),
    ];

    /// <summary>Rounds per shape and thread count, ours and OpenBLAS's alternating, each given a third of the time.</summary>
    private const int Rounds = 3;

    /// <summary>Longer than OpenBLAS's pool threads spin after a call before they sleep (2²⁸ cycles by default, ~0.1 s).</summary>
    private static readonly TimeSpan PoolSpin = TimeSpan.FromMilliseconds(200);

    /// <summary>
    /// Measures every shape at each thread count (ascending), ours and OpenBLAS's in alternating rounds.
    /// <paramref name="progress"/> sees each row as it lands.
    /// </summary>
    public static List<GemmResult> Run(IEnumerable<GemmShape> shapes, int[] threadCounts, IReadOnlyDictionary<int, double> peaks,
        OpenBlas? openBlas, double seconds, Action<GemmResult> progress)
    {
        var results = new List<GemmResult>();
        foreach (var shape in shapes)
        {
            using var matmul = new CpuMatMulCase(shape.M, shape.N, shape.K, shape.TransposeA, shape.TransposeB, shape.Batch);
            foreach (int threads in threadCounts)
            {
                // Rounds alternate ours and OpenBLAS's, each the best of its rounds, so a burst of other load on
                // a shared host falls on both rather than on one side of the ratio. After a multi-threaded
                // OpenBLAS call its pool threads keep spinning for a while, so ours waits them out.
                double gflops = 0, reference = double.NaN, difference = double.NaN;
                for (int round = 0; round < Rounds; round++)
                {
                    gflops = Math.Max(gflops, matmul.Measure(threads, seconds / Rounds));
                    if (openBlas is null) continue;
                    double blas = openBlas.Measure(shape.Batch, shape.M, shape.N, shape.K, shape.TransposeA, shape.TransposeB,
                        matmul.A, matmul.B, threads, seconds / Rounds, out var expected);
                    reference = double.IsNaN(reference) ? blas : Math.Max(reference, blas);
                    if (round == 0) difference = MaxDifference(matmul.Result(), expected);
                    if (threads > 1) Thread.Sleep(PoolSpin);
                }
                var result = new GemmResult(shape, threads, gflops, reference, peaks[threads], difference);
                results.Add(result);
                progress(result);
            }
        }
        return results;
    }

    private static double MaxDifference(float[] got, float[] expected)
    {
        double worst = 0;
        for (int i = 0; i < got.Length; i++) worst = Math.Max(worst, Math.Abs(got[i] - expected[i]));
        return worst;
    }

    public static JsonObject Json(GemmResult r) => new()
    {
        ["shape"] = r.Shape.Name, ["m"] = r.Shape.M, ["n"] = r.Shape.N, ["k"] = r.Shape.K, ["batch"] = r.Shape.Batch,
        ["transpose_a"] = r.Shape.TransposeA, ["transpose_b"] = r.Shape.TransposeB, ["threads"] = r.Threads,
        ["gflops"] = r.Gflops, ["openblas_gflops"] = Number(r.OpenBlasGflops), ["ratio"] = Number(r.Ratio), ["of_peak"] = r.OfPeak,
        ["max_abs_difference"] = Number(r.MaxDifference),
    };

    private static JsonNode? Number(double value) => double.IsFinite(value) ? value : null;

    /// <summary>1 and all worker threads (just 1 on a one-core machine).</summary>
    public static int[] ThreadCounts() => JobSystem.Shared.WorkerCount > 1 ? [1, JobSystem.Shared.WorkerCount] : [1];
}
