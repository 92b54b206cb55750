using System.Collections.Immutable;
using Dataflow.Graph.Ops;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

public class ReduceTests
{
    public static TheoryData<long[], int[]> Cases => new()
    {
        { [], [] },                          // rank 0
        { [1], [0] },
        { [17], [0] },
        { [3, 65], [1] },                    // rows
        { [130, 3], [0] },                   // column sums (bias gradient)
        { [2, 17, 5], [1] },                 // middle axis
        { [4, 3, 5, 6], [0, 2] },            // strided general path
        { [4, 3, 5, 6], [1, 3] },
        { [4, 3, 5, 6], [0, 1, 2, 3] },
        { [4, 1, 5, 6], [1] },               // reducing a size-1 axis is a copy
        { [2, 3, 4], [0, 1] },               // leading axes merge
        { [2, 300, 3], [1] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SumAndMaxMatchNaive(long[] shape, int[] axes)
    {
        foreach (var keep in new[] { false, true })
        {
            var x = Random(Elements(shape), shape.Length * 7 + axes.Length);
            Check(OpCode.ReduceSum, shape, axes, keep, x, 1e-6);
            Check(OpCode.ReduceMax, shape, axes, keep, x, 0);
        }
    }

    [Theory]
    [InlineData(1_000_000L, 1L)]       // one long row, split across tasks
    [InlineData(4L, 300_000L)]         // a few long rows
    [InlineData(1L, 1_000_000L)]
    public void LargeSumsStayAccurate(long rows, long length)
    {
        // Positive values make naive float accumulation drift by ~1e-3 over 1e6 terms.
        var x = Random(rows * length, 5).Select(v => Math.Abs(v) + 0.1f).ToArray();
        long[] shape = rows == 1_000_000 ? [rows] : [rows, length];
        Check(OpCode.ReduceSum, shape, [shape.Length - 1], false, x, 1e-6);
    }

    [Fact]
    public void LargeColumnSumStaysAccurate()
    {
        var x = Random(250_000 * 4, 9).Select(v => Math.Abs(v) + 0.1f).ToArray();
        Check(OpCode.ReduceSum, [250_000, 4], [0], false, x, 1e-6);
    }

    [Fact]
    public void IntegerSum()
    {
        var x = Enumerable.Range(0, 24).Select(i => i - 5).ToArray();
        var got = AsInts(RunOp(OpCode.ReduceSum, new OpAttrs { Axes = [1] }, [I32(4, 6)], I32(4), [x]));
        Assert.Equal(new[] { -15, 21, 57, 93 }, got); // rows -5..0, 1..6, 7..12, 13..18
        var max = AsInts(RunOp(OpCode.ReduceMax, new OpAttrs { Axes = [0] }, [I32(4, 6)], I32(6), [x]));
        Assert.Equal(new[] { 13, 14, 15, 16, 17, 18 }, max);
    }

    [Fact]
    public void MaxPropagatesNegativeInfinityRows()
    {
        var x = new[] { float.NegativeInfinity, float.NegativeInfinity, 1f, 2f };
        var got = RunOp(OpCode.ReduceMax, new OpAttrs { Axes = [1] }, [F32(2, 2)], F32(2), [x]);
        Assert.Equal(new[] { float.NegativeInfinity, 2f }, got);
    }

    private static void Check(OpCode op, long[] shape, int[] axes, bool keep, float[] x, double tolerance)
    {
        var outShape = keep
            ? shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray()
            : shape.Where((_, i) => !axes.Contains(i)).ToArray();
        var attrs = new OpAttrs { Axes = [.. axes], KeepDims = keep };
        var got = RunOp(op, attrs, [F32(shape)], F32(outShape), [x]);

        var expected = new double[Elements(outShape)];
        Array.Fill(expected, op == OpCode.ReduceMax ? double.NegativeInfinity : 0);
        var keptShape = shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        for (long i = 0; i < x.Length; i++)
        {
            var index = Unravel(i, shape);
            long o = BroadcastIndex(index, keptShape);
            expected[o] = op == OpCode.ReduceMax ? Math.Max(expected[o], x[i]) : expected[o] + x[i];
        }
        AssertClose(expected, got, tolerance, 1.0, $"{op} [{string.Join(",", shape)}] axes [{string.Join(",", axes)}] keep={keep}");
    }
}
