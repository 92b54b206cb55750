using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

public class MovementTests
{
    [Theory]
    [InlineData(new long[] { 3, 4 }, new long[] { 12 })]
    [InlineData(new long[] { }, new long[] { 1, 1 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 4, 6 })]
    public void ReshapeCopiesBits(long[] from, long[] to)
    {
        var x = Enumerable.Range(0, (int)Elements(from)).Select(i => i * 7 - 3).ToArray();
        var got = AsInts(RunOp(OpCode.Reshape, new OpAttrs { Shape = Shape.Of(to) }, [I32(from)], I32(to), [x]));
        Assert.Equal(x, got);
    }

    public static TheoryData<long[], int[]> PermuteCases => new()
    {
        { [5], [0] },
        { [3, 17], [1, 0] },                 // 2-D transpose
        { [65, 130], [1, 0] },               // several tiles, ragged edges
        { [2, 17, 33], [0, 2, 1] },          // batched transpose of the last two axes
        { [2, 3, 4, 5], [0, 2, 1, 3] },      // attention head split: contiguous inner runs
        { [2, 3, 4, 5], [3, 1, 0, 2] },      // general
        { [2, 3, 4, 5], [2, 3, 0, 1] },      // merges to a 2-D transpose
        { [4, 1, 3], [2, 1, 0] },            // size-1 axes drop out
        { [2, 3, 1, 4], [0, 1, 2, 3] },      // identity
        { [2, 5, 3, 4, 8], [2, 0, 3, 1, 4] },    // q, k, v head split [B, T, 3, h, dk] -> [3, B, h, T, dk]
        { [3, 2, 4, 5, 8], [1, 3, 0, 2, 4] },    // its gradient, back to [B, T, 3, h, dk]
        { [6, 64, 3, 4, 32], [2, 0, 3, 1, 4] },  // the baby GPT's split: many rows per task, tasks starting mid-axis
        { [24, 100, 3, 7], [2, 0, 3, 1] },       // strided inner run across tasks
    };

    [Theory]
    [MemberData(nameof(PermuteCases))]
    public void PermuteMatchesNaive(long[] shape, int[] perm)
    {
        var x = Random(Elements(shape), 3);
        var outShape = perm.Select(p => shape[p]).ToArray();
        var got = RunOp(OpCode.Permute, new OpAttrs { Perm = [.. perm] }, [F32(shape)], F32(outShape), [x]);
        var inStrides = Strides(shape);
        for (long i = 0; i < got.Length; i++)
        {
            var index = Unravel(i, outShape);
            long src = 0;
            for (int d = 0; d < perm.Length; d++) src += index[d] * inStrides[perm[d]];
            Assert.Equal(x[src], got[i]);
        }
    }

    public static TheoryData<long[], long[]> ExpandCases => new()
    {
        { [], [3, 4] },                      // scalar
        { [1], [17] },
        { [4], [3, 4] },                     // row vector over rows
        { [3, 1], [3, 65] },                 // column over a row
        { [1, 4], [3, 4] },
        { [2, 1, 3], [2, 5, 3] },            // middle axis
        { [1, 3, 1, 5], [2, 3, 4, 5] },      // several axes, rank 4
        { [5], [2, 3, 4, 5] },               // lower rank
        { [2, 3], [2, 3] },                  // identity
    };

    [Theory]
    [MemberData(nameof(ExpandCases))]
    public void ExpandMatchesNaive(long[] shape, long[] target)
    {
        var x = Random(Elements(shape), 4);
        var got = RunOp(OpCode.Expand, new OpAttrs { Shape = Shape.Of(target) }, [F32(shape)], F32(target), [x]);
        for (long i = 0; i < got.Length; i++) Assert.Equal(x[BroadcastIndex(Unravel(i, target), shape)], got[i]);
    }

    [Fact]
    public void LargeExpandAcrossTasks()
    {
        var x = Random(1000, 6);
        var got = RunOp(OpCode.Expand, new OpAttrs { Shape = Shape.Of(300, 1000) }, [F32(1000)], F32(300, 1000), [x]);
        for (int r = 0; r < 300; r++) Assert.Equal(x, got.AsSpan(r * 1000, 1000).ToArray());
    }

    private static long[] Strides(long[] shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }
}
