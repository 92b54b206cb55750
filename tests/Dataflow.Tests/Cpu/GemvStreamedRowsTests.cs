using System.Runtime.Intrinsics;
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
    [InlineData(16, 1160, 36)]    // packed strips: nine 128-column tasks, the last eight columns a part strip alone
    [InlineData(5, 1152, 1152)]
    [InlineData(9, 64, 288)]      // 9–32 rows: the micro-kernel over whole-k column tasks (a part row panel)
    [InlineData(24, 1000, 300)]   // a part column panel, k in chunks with a short last one
    [InlineData(32, 864, 1152)]
    [InlineData(17, 70, 33)]
    [InlineData(1, 864, 288)]
    [InlineData(1, 37, 1152)]
    [InlineData(1, 300, 300)]     // eight chunks of 40 rows but the last: four read in step, four alone
    [InlineData(1, 3, 5)]
    [InlineData(12, 1003, 290)]   // x · Bᵀ in lanes (8–16 rows): part lanes, a task's columns past its eighths one by one, k past whole blocks of 8
    [InlineData(8, 200, 7)]
    public void Few_rows_times_a_wide_matrix_match_a_naive_sum(int m, int n, int k)
    {
        foreach (bool transposed in new[] { false, true })
            Check(m, n, k, transposed);
    }

    /// <summary>
    /// A decode step's sequence gets the same bits alone as batched with others (the chunked sums and dots agree
    /// row by row, whichever kernel takes the rows); only x · Bᵀ among eight or more rows with 512-bit vectors
    /// (rows in vector lanes or transposed strips: a scalar chain over k) agrees to rounding instead: within 1e-5 of Σ|a·b|, the bound the
    /// batched decode's logits are held to.
    /// </summary>
    [Theory]
    [InlineData(300, 288)]
    [InlineData(1153, 1152)]
    [InlineData(96, 47)]
    [InlineData(864, 300)]
    [InlineData(1160, 290)]
    [InlineData(864, 288, 9)]
    [InlineData(290, 1152, 32)]
    public void One_row_alone_gives_the_bits_it_gets_among_many(int n, int k, int rows = 16)
    {
        foreach (bool transposed in new[] { false, true })
        {
            var a = Random((long)rows * k, 11);
            var b = Random((long)k * n, 13);
            var attrs = new OpAttrs { TransposeB = transposed };
            var bDesc = transposed ? F32(n, k) : F32(k, n);
            var all = RunOp(OpCode.MatMul, attrs, [F32(rows, k), bDesc], F32(rows, n), [a, b]);
            // Past the streamed rows x · Bᵀ is the packed GEMM's (whole-k chains), not the single row's dots.
            bool bitwise = !transposed || (!Vector512.IsHardwareAccelerated && rows <= Dataflow.Backends.Cpu.Kernels.Gemv.MaxStreamedRows);
            foreach (int row in new[] { 0, 5, rows - 1 })
            {
                var alone = RunOp(OpCode.MatMul, attrs, [F32(1, k), bDesc], F32(1, n), [a.AsSpan(row * k, k).ToArray(), b]);
                for (int j = 0; j < n; j++)
                {
                    string what = $"row {row}, column {j}{(transposed ? " (Bᵀ)" : "")}: {all[row * n + j]} among {rows}, {alone[j]} alone";
                    if (bitwise)
                    {
                        Assert.True(all[row * n + j] == alone[j], what);
                        continue;
                    }
                    double scale = 0;
                    for (int p = 0; p < k; p++) scale += Math.Abs(a[row * k + p] * (transposed ? b[j * k + p] : b[p * n + j]));
                    Assert.True(Math.Abs(all[row * n + j] - alone[j]) <= 1e-5 * Math.Max(scale, 1e-30), what);
                }
            }
        }
    }

    private static void Check(int m, int n, int k, bool transposed)
    {
        var a = Random((long)m * k, 3 + m);
        var b = Random((long)k * n, 5 + n);
        var attrs = new OpAttrs { TransposeB = transposed };
        var got = RunOp(OpCode.MatMul, attrs, [F32(m, k), transposed ? F32(n, k) : F32(k, n)], F32(m, n), [a, b]);
        AssertNaiveProduct(got, a, b, m, n, k, transposed);
    }
}
