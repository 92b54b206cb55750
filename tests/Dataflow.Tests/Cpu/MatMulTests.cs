using Dataflow.Graph.Ops;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

public class MatMulTests
{
    /// <summary>
    /// Error of each element relative to Σ|a·b| over k (the scale that float rounding works on), so
    /// elements that cancel to near zero are judged fairly. Tolerance 1e-5.
    /// </summary>
    private const double Tolerance = 1e-5;

    public static TheoryData<int, int, int> Sizes => new()
    {
        { 1, 1, 1 }, { 3, 5, 7 }, { 17, 65, 3 }, { 65, 17, 130 }, { 6, 16, 256 },
        { 130, 33, 65 }, { 1, 64, 300 }, { 64, 1, 300 }, { 200, 40, 20 }, { 100, 130, 513 },
    };

    [Theory]
    [MemberData(nameof(Sizes))]
    public void AllTransposeCombinations(int m, int n, int k)
    {
        foreach (var ta in new[] { false, true })
        foreach (var tb in new[] { false, true })
            Check([], [], m, n, k, ta, tb);
    }

    [Theory]
    [InlineData(new long[] { 2, 3 }, new long[] { }, false, false)]       // [B,H,M,K] · [K,N]: batch folds into M
    [InlineData(new long[] { 4 }, new long[] { }, true, false)]           // shared B with transposed A cannot fold
    [InlineData(new long[] { }, new long[] { 4 }, false, true)]           // A broadcast over B's batch
    [InlineData(new long[] { 2, 1 }, new long[] { 3 }, true, true)]       // both broadcast: [2,3]
    [InlineData(new long[] { 1, 3 }, new long[] { 2, 1 }, false, false)] // size-1 batch dims on each side
    [InlineData(new long[] { 5 }, new long[] { 5 }, false, true)]         // attention scores Q·Kᵀ
    public void BatchBroadcasting(long[] batchA, long[] batchB, bool ta, bool tb)
    {
        Check(batchA, batchB, 17, 9, 13, ta, tb);
        Check(batchA, batchB, 3, 33, 65, ta, tb);
        Check(batchA, batchB, 1, 600, 65, ta, tb);  // matrix-vector paths
        Check(batchA, batchB, 40, 1, 65, ta, tb);
    }

    [Fact]
    public void ZeroInnerDimensionGivesZeros()
    {
        var result = RunOp(OpCode.MatMul, OpAttrs.None, [F32(3, 0), F32(0, 4)], F32(3, 4), [new float[0], new float[0]]);
        Assert.All(result, v => Assert.Equal(0f, v));
    }

    private static void Check(long[] batchA, long[] batchB, int m, int n, int k, bool ta, bool tb)
    {
        long[] shapeA = [.. batchA, ta ? k : m, ta ? m : k];
        long[] shapeB = [.. batchB, tb ? n : k, tb ? k : n];
        int rank = Math.Max(batchA.Length, batchB.Length);
        var batch = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            long da = d < rank - batchA.Length ? 1 : batchA[d - (rank - batchA.Length)];
            long db = d < rank - batchB.Length ? 1 : batchB[d - (rank - batchB.Length)];
            batch[d] = Math.Max(da, db);
        }
        long[] shapeC = [.. batch, m, n];
        var a = Random(Elements(shapeA), 11 + m);
        var b = Random(Elements(shapeB), 23 + n);
        var attrs = new OpAttrs { TransposeA = ta, TransposeB = tb };
        var got = RunOp(OpCode.MatMul, attrs, [F32(shapeA), F32(shapeB)], F32(shapeC), [a, b]);

        long batches = Elements(batch);
        double worst = 0;
        for (long bi = 0; bi < batches; bi++)
        {
            var bIndex = Unravel(bi, batch);
            long aBase = BroadcastIndex(bIndex, batchA) * m * k, bBase = BroadcastIndex(bIndex, batchB) * k * n;
            for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    double x = a[aBase + (ta ? (long)p * m + i : (long)i * k + p)];
                    double y = b[bBase + (tb ? (long)j * k + p : (long)p * n + j)];
                    sum += x * y;
                    scale += Math.Abs(x * y);
                }
                double err = Math.Abs(got[(bi * m + i) * n + j] - sum) / Math.Max(scale, 1e-30);
                if (double.IsNaN(err)) err = double.PositiveInfinity;
                worst = Math.Max(worst, err);
            }
        }
        Assert.True(worst <= Tolerance,
            $"matmul [{string.Join(",", shapeA)}]{(ta ? "ᵀ" : "")} · [{string.Join(",", shapeB)}]{(tb ? "ᵀ" : "")}: relative error {worst:E3}");
    }
}
