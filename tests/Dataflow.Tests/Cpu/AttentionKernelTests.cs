using Dataflow.Backends.Cpu;
using Dataflow.Backends.Cpu.Kernels;
using Dataflow.Engine.Backends;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

/// <summary>
/// The fused attention kernels, forward and backward, in both instruction sets' tiles (AVX-512 and the 256-bit
/// fallback, each run on any machine), against a double-precision reference of softmax(q·kᵀ·c [+ causal])·v and its
/// analytic gradient, on the shapes the tiling makes special: one query and one key, T not a multiple of the query
/// block or of the 32-key block, a head width that is not a whole number of vectors, several key blocks (so the
/// online softmax rescales), and as many or fewer or more keys than queries.
/// </summary>
public sealed class AttentionKernelTests
{
    /// <summary>Max relative error with a floor of 1 (the values here are of order 1): float rounding is ~1e-6.</summary>
    private const double Tolerance = 2e-5;

    private static AttentionTiles Tiles(string name) => name == "avx512" ? AttentionTiles.Avx512 : AttentionTiles.Avx2;

    [Theory]
    [InlineData("avx512", 1, 1, 8, true)]
    [InlineData("avx2", 1, 1, 8, true)]
    [InlineData("avx512", 1, 1, 32, false)]
    [InlineData("avx2", 9, 9, 8, true)]
    [InlineData("avx512", 9, 9, 8, true)]
    [InlineData("avx512", 40, 40, 8, false)]
    [InlineData("avx2", 40, 40, 8, false)]
    [InlineData("avx512", 64, 64, 32, true)]
    [InlineData("avx2", 64, 64, 32, true)]
    [InlineData("avx512", 70, 70, 40, true)]
    [InlineData("avx2", 70, 70, 40, true)]
    [InlineData("avx512", 33, 33, 64, true)]
    [InlineData("avx2", 17, 17, 64, false)]
    [InlineData("avx512", 13, 37, 16, false)]
    [InlineData("avx2", 13, 37, 16, false)]
    [InlineData("avx512", 37, 13, 24, false)]
    [InlineData("avx2", 37, 13, 24, false)]
    public void ForwardAndBackwardMatchTheDoubleReference(string tiles, int queries, int keys, int width, bool causal)
    {
        const int batchHeads = 3;
        float scale = 1 / MathF.Sqrt(width);
        var q = Random((long)batchHeads * queries * width, 1, 2f);
        var k = Random((long)batchHeads * keys * width, 2, 2f);
        var v = Random((long)batchHeads * keys * width, 3);
        var gradOut = Random((long)batchHeads * queries * width, 4);
        var expected = Reference(batchHeads, queries, keys, width, scale, causal, q, k, v, gradOut);

        var forward = new AttentionSpec(batchHeads, queries, keys, width, scale, causal, WritesRowStatistics: true);
        var results = Launch(new AttentionKernel(forward, Tiles(tiles)), [q, k, v], [q.Length, batchHeads * queries, batchHeads * queries]);
        var (output, max, sum) = (results[0], results[1], results[2]);
        AssertClose(expected.Output, output, Tolerance, what: "output");
        AssertClose(expected.Max, max, Tolerance, what: "row max");
        AssertClose(expected.Sum, sum, Tolerance, what: "row sum");

        var backward = new AttentionBackwardSpec(batchHeads, queries, keys, width, scale, causal);
        var grads = Launch(new AttentionBackwardKernel(backward, Tiles(tiles)), [q, k, v, output, gradOut, max, sum], [q.Length, k.Length, v.Length]);
        AssertClose(expected.GradQ, grads[0], Tolerance, what: "dQ");
        AssertClose(expected.GradK, grads[1], Tolerance, what: "dK");
        AssertClose(expected.GradV, grads[2], Tolerance, what: "dV");
    }

    [Fact]
    public void TheBestTilesAreTheWidestTheMachineAccelerates() =>
        Assert.Equal(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "avx512 16x16" : "avx2 8x8", AttentionTiles.Best.Name);

    /// <summary>Launches a kernel built outside the backend's compile (to pick its tiles); outputs start as NaN so an unwritten element fails.</summary>
    private static float[][] Launch(ICompiledKernel kernel, float[][] inputs, int[] outputs)
    {
        var buffers = inputs.Concat(outputs.Select(n => Enumerable.Repeat(float.NaN, n).ToArray()))
            .Select(h => { var d = Backend.Allocate(h.Length); Backend.Upload(d, h); return d; }).ToArray();
        try
        {
            Backend.Enqueue(kernel, buffers, LaunchParams.None);
            Backend.Wait();
            return [.. buffers.Skip(inputs.Length).Select(d => { var h = new float[d.Elements]; Backend.Download(d, h); return h; })];
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }

    private sealed record Expected(double[] Output, double[] Max, double[] Sum, double[] GradQ, double[] GradK, double[] GradV);

    private static Expected Reference(int bh, int tq, int tk, int w, double scale, bool causal, float[] q, float[] k, float[] v, float[] gradOut)
    {
        var output = new double[q.Length];
        var (max, sum) = (new double[bh * tq], new double[bh * tq]);
        var (gradQ, gradK, gradV) = (new double[q.Length], new double[k.Length], new double[v.Length]);
        var p = new double[tk];
        for (int s = 0; s < bh; s++)
            for (int i = 0; i < tq; i++)
            {
                int row = s * tq + i, visible = causal ? Math.Min(i + 1, tk) : tk;
                double m = double.NegativeInfinity, l = 0;
                for (int j = 0; j < visible; j++)
                {
                    double dot = 0;
                    for (int c = 0; c < w; c++) dot += (double)q[row * w + c] * k[(s * tk + j) * w + c];
                    p[j] = dot * scale;
                    m = Math.Max(m, p[j]);
                }
                for (int j = 0; j < visible; j++) l += p[j] = Math.Exp(p[j] - m);
                (max[row], sum[row]) = (m, l);
                double rowDot = 0;
                for (int j = 0; j < visible; j++)
                {
                    p[j] /= l;
                    for (int c = 0; c < w; c++) output[row * w + c] += p[j] * v[(s * tk + j) * w + c];
                }
                for (int c = 0; c < w; c++) rowDot += gradOut[row * w + c] * output[row * w + c];
                for (int j = 0; j < visible; j++)
                {
                    int key = (s * tk + j) * w;
                    double gradP = 0;
                    for (int c = 0; c < w; c++) gradP += (double)gradOut[row * w + c] * v[key + c];
                    double gradScore = p[j] * (gradP - rowDot) * scale;
                    for (int c = 0; c < w; c++)
                    {
                        gradV[key + c] += p[j] * gradOut[row * w + c];
                        gradQ[row * w + c] += gradScore * k[key + c];
                        gradK[key + c] += gradScore * q[row * w + c];
                    }
                }
            }
        return new Expected(output, max, sum, gradQ, gradK, gradV);
    }
}
