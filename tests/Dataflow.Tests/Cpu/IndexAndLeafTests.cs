using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

public class IndexAndLeafTests
{
    [Fact]
    public void GatherRowsWithOutOfRangeAsZeros()
    {
        var table = Random(5 * 3 * 2, 1);
        int[] index = [4, 0, -1, 2, 5, 4];
        var got = RunOp(OpCode.Gather, OpAttrs.None, [F32(5, 3, 2), I32(2, 3)], F32(2, 3, 3, 2), [table, index]);
        for (int n = 0; n < index.Length; n++)
        for (int j = 0; j < 6; j++)
            Assert.Equal(index[n] is >= 0 and < 5 ? table[index[n] * 6 + j] : 0f, got[n * 6 + j]);
    }

    [Fact]
    public void GatherOfWideRowsCopiesEveryPiece()
    {
        // Rows wider than a copy piece (attention picks one B·h·T·dk row of the stacked q, k, v), ragged last piece.
        const int width = 2 * 16 * 1024 + 5;
        var table = Random(3L * width, 7);
        int[] index = [2, 3, 0];
        var got = RunOp(OpCode.Gather, OpAttrs.None, [F32(3, width), I32(3)], F32(3, width), [table, index]);
        for (int n = 0; n < index.Length; n++)
            Assert.Equal(index[n] < 3 ? table.AsSpan(index[n] * width, width).ToArray() : new float[width], got.AsSpan(n * width, width).ToArray());
    }

    [Fact]
    public void GatherFromVectorTable()
    {
        var got = RunOp(OpCode.Gather, OpAttrs.None, [F32(3), I32(4)], F32(4), [new[] { 10f, 20f, 30f }, new[] { 2, 2, 0, 1 }]);
        Assert.Equal(new[] { 30f, 30f, 10f, 20f }, got);
    }

    [Theory]
    [InlineData(7, 3)]
    [InlineData(1000, 1300)]  // several column tasks, many repeated indices
    public void ScatterAddMatchesNaive(int count, int width)
    {
        const int rows = 11;
        var values = Random((long)count * width, 2);
        var r = new Random(3);
        var index = Enumerable.Range(0, count).Select(_ => r.Next(-1, rows + 1)).ToArray(); // includes out-of-range
        var got = RunOp(OpCode.ScatterAdd, new OpAttrs { Count = Dim.Const(rows) }, [F32(count, width), I32(count)], F32(rows, width), [values, index], count: rows);
        var expected = new double[rows * width];
        for (int n = 0; n < count; n++)
            if (index[n] is >= 0 and < rows)
                for (int j = 0; j < width; j++) expected[index[n] * width + j] += values[(long)n * width + j];
        AssertClose(expected, got, 1e-5);
    }

    [Fact]
    public void ScatterAddIsDeterministic()
    {
        var values = Random(5000 * 700, 4);
        var index = Enumerable.Range(0, 5000).Select(i => i * 7919 % 13).ToArray();
        var attrs = new OpAttrs { Count = Dim.Const(13) };
        var first = RunOp(OpCode.ScatterAdd, attrs, [F32(5000, 700), I32(5000)], F32(13, 700), [values, index], count: 13);
        var second = RunOp(OpCode.ScatterAdd, attrs, [F32(5000, 700), I32(5000)], F32(13, 700), [values, index], count: 13);
        Assert.Equal(first, second);
    }

    [Fact]
    public void OneHotWithOutOfRangeRows()
    {
        int[] index = [0, 3, 4, -1, 2];
        var got = RunOp(OpCode.OneHot, new OpAttrs { Count = Dim.Const(4) }, [I32(5)], F32(5, 4), [index], count: 4);
        for (int n = 0; n < 5; n++)
        for (int d = 0; d < 4; d++)
            Assert.Equal(index[n] == d ? 1f : 0f, got[n * 4 + d]);
    }

    [Fact]
    public void ConstantFromValueDataAndCount()
    {
        Assert.All(RunOp(OpCode.Constant, new OpAttrs { Value = 2.5 }, [], F32(3, 5), []), v => Assert.Equal(2.5f, v));
        Assert.Equal(new[] { -1.5f }, RunOp(OpCode.Constant, new OpAttrs { Value = -1.5 }, [], F32(), []));
        float[] data = [1, 2, 3, 4, 5, 6];
        Assert.Equal(data, RunOp(OpCode.Constant, new OpAttrs { Data = data, Shape = Shape.Of(2, 3) }, [], F32(2, 3), []));
        var counted = RunOp(OpCode.Constant, new OpAttrs { Count = Dim.Const(17) }, [], F32(), [], count: 17);
        Assert.Equal(new[] { 17f }, counted);
    }

    [Fact]
    public void IotaCountsFromZero()
    {
        var got = AsInts(RunOp(OpCode.Iota, new OpAttrs { Count = Dim.Const(65) }, [], I32(65), [], count: 65));
        Assert.Equal(Enumerable.Range(0, 65).ToArray(), got);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(17)]
    public void CausalMaskHidesTheFuture(int t)
    {
        var got = RunOp(OpCode.CausalMask, new OpAttrs { Count = Dim.Const(t) }, [], F32(t, t), [], count: t);
        for (int row = 0; row < t; row++)
        for (int col = 0; col < t; col++)
            Assert.Equal(col <= row ? 0f : float.NegativeInfinity, got[row * t + col]);
    }

    [Fact]
    public void DropoutMaskKeepsExpectationAndIsDeterministicPerSeed()
    {
        const int n = 1 << 20;
        var attrs = new OpAttrs { Value = 0.25, Shape = Shape.Of(n) };
        var a = RunOp(OpCode.DropoutMask, attrs, [], F32(n), [], launch: new LaunchParams(42, null));
        var b = RunOp(OpCode.DropoutMask, attrs, [], F32(n), [], launch: new LaunchParams(42, null));
        var c = RunOp(OpCode.DropoutMask, attrs, [], F32(n), [], launch: new LaunchParams(43, null));
        Assert.Equal(a, b);
        Assert.NotEqual(a, c);
        Assert.All(a, v => Assert.True(v == 0f || Math.Abs(v - 1f / 0.75f) < 1e-6f));
        Assert.InRange(a.Average(v => (double)v), 0.99, 1.01);
        for (int i = 0; i < 100; i++) Assert.Equal(CounterRng.DropoutKeep(42, (uint)i, 0.25f), a[i]);
    }
}
