using Dataflow.Graph.Ops;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

/// <summary>The streamed few-rows matmul (a batched decode step's projections and tied unembedding), B plain and transposed, with tails, against a naive sum.</summary>
public class GemvStreamedRowsTests
{
    [Theory]
    [InlineData(2, 64, 5)]
    [InlineData(4, 100, 288)]
    [InlineData(7, 1153, 33)]
    [InlineData(16, 300, 768)]
    [InlineData(13, 65, 1)]
    public void Few_rows_times_a_wide_matrix_match_a_naive_sum(int m, int n, int k)
    {
        foreach (bool transposed in new[] { false, true })
            Check(m, n, k, transposed);
    }

    private static void Check(int m, int n, int k, bool transposed)
    {
        var a = Random((long)m * k, 3 + m);
        var b = Random((long)k * n, 5 + n);
        var attrs = new OpAttrs { TransposeB = transposed };
        var got = RunOp(OpCode.MatMul, attrs, [F32(m, k), transposed ? F32(n, k) : F32(k, n)], F32(m, n), [a, b]);
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    double y = transposed ? b[j * k + p] : b[p * n + j];
                    sum += a[i * k + p] * y;
                    scale += Math.Abs(a[i * k + p] * y);
                }
                Assert.True(Math.Abs(got[i * n + j] - sum) <= 1e-5 * Math.Max(scale, 1e-30), $"[{i},{j}] of [{m},{k}]·[{k},{n}]{(transposed ? " (Bᵀ)" : "")}: {got[i * n + j]} vs {sum}");
            }
    }
}
