using System.Collections.Immutable;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.Cpu.CpuHarness;
using I = Dataflow.Engine.Backends.FusedInstruction;

namespace Dataflow.Tests.Cpu;

public class FusedElementwiseTests
{
    /// <summary>Relative error allowed per element (|expected| floored at 1), for a few-ulp vectorised exp/tanh/sin.</summary>
    private const double Tolerance = 1e-6;

    public static TheoryData<OpCode> UnaryOps => new() { OpCode.Neg, OpCode.Exp, OpCode.Log, OpCode.Sqrt, OpCode.Recip, OpCode.Tanh, OpCode.Sin, OpCode.Cast, OpCode.Detach };

    [Theory]
    [MemberData(nameof(UnaryOps))]
    public void UnaryOpOverOddSizes(OpCode op)
    {
        foreach (long n in new long[] { 1, 3, 17, 65, 130, 5000 })
        {
            var x = Random(n, (int)n, 4f);
            if (op is OpCode.Log or OpCode.Sqrt or OpCode.Recip) x = x.Select(v => Math.Abs(v) + 0.01f).ToArray();
            var castTo = op == OpCode.Cast ? DType.I32 : DType.F32;
            Check([F32(n)], [n], [I.Load(0), I.Unary(op, 0, castTo)], [1], [DType.F32], [x]);
        }
    }

    public static TheoryData<OpCode, long[], long[]> BinaryCases()
    {
        var data = new TheoryData<OpCode, long[], long[]>();
        foreach (var op in new[] { OpCode.Add, OpCode.Sub, OpCode.Mul, OpCode.Div, OpCode.Max, OpCode.Greater, OpCode.Equal })
        {
            data.Add(op, [3, 17], [3, 17]);      // same shape
            data.Add(op, [], [65]);              // scalar on the left
            data.Add(op, [2, 3, 5], [1]);        // scalar-like on the right
            data.Add(op, [5], [4, 5]);           // row vector over rows
            data.Add(op, [4, 1], [4, 130]);      // column over a row
            data.Add(op, [2, 1, 3, 1], [1, 4, 1, 5]); // both broadcast, rank 4
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(BinaryCases))]
    public void BinaryOpWithBroadcasting(OpCode op, long[] a, long[] b)
    {
        // Small integers make Equal hit; Div avoids zero.
        var x = Random(Elements(a), 1, 3f).Select(v => MathF.Round(v)).ToArray();
        var y = Random(Elements(b), 2, 3f).Select(v => op == OpCode.Div ? MathF.Round(v) + 3.5f : MathF.Round(v)).ToArray();
        var shape = Broadcast(a, b);
        Check([F32(a), F32(b)], shape, [I.Load(0), I.Load(1), I.Binary(op, 0, 1)], [2], [DType.F32], [x, y]);
        Check([F32(a), F32(b)], shape, [I.Load(1), I.Load(0), I.Binary(op, 1, 0)], [2], [DType.F32], [x, y]);
    }

    [Theory]
    [InlineData("loads input 1 of 1")]
    [InlineData("not yet computed")]
    [InlineData("output register r5")]
    public void MalformedProgramsAreRejectedBeforeAnyBackendSeesThem(string fault)
    {
        var (program, output) = fault switch
        {
            "loads input 1 of 1" => (ImmutableArray.Create(I.Load(1), I.Binary(OpCode.Add, 0, 0)), 1),
            "not yet computed" => (ImmutableArray.Create(I.Load(0), I.Binary(OpCode.Add, 0, 1)), 1),
            _ => (ImmutableArray.Create(I.Load(0), I.Binary(OpCode.Add, 0, 0)), 5),
        };
        var spec = new FusedElementwiseSpec([F32(4)], [4], program, [output], [DType.F32]);
        Assert.Contains(fault, Assert.Throws<ArgumentException>(spec.Validate).Message);
        Assert.Contains(fault, Assert.Throws<ArgumentException>(() => new Dataflow.Backends.Cpu.CpuBackend().Compile(spec)).Message);
    }

    [Fact]
    public void ScalarConstantsOnEitherSide()
    {
        var x = Random(100, 3);
        foreach (var op in new[] { OpCode.Add, OpCode.Sub, OpCode.Mul, OpCode.Div, OpCode.Max, OpCode.Greater, OpCode.Equal })
        {
            Check([F32(10, 10)], [10, 10], [I.Load(0), I.Const(0.25f), I.Binary(op, 0, 1)], [2], [DType.F32], [x]);
            Check([F32(10, 10)], [10, 10], [I.Load(0), I.Const(0.25f), I.Binary(op, 1, 0)], [2], [DType.F32], [x]);
        }
        // A program of constants only folds to a fill.
        Check([], [3, 3], [I.Const(2f), I.Const(3f), I.Binary(OpCode.Mul, 0, 1), I.Unary(OpCode.Exp, 2)], [3], [DType.F32], []);
    }

    [Fact]
    public void GeluChainWithBiasAndMultipleOutputs()
    {
        // y = x + bias; g = 0.5*y*(1 + tanh(0.79788456*(y + 0.044715*y^3))); outputs g, y > 0, and y itself.
        long[] shape = [4, 33, 65];
        var x = Random(Elements(shape), 7, 3f);
        var bias = Random(65, 8);
        ImmutableArray<I> program =
        [
            I.Load(0),                            // 0 x
            I.Load(1),                            // 1 bias [65]
            I.Binary(OpCode.Add, 0, 1),           // 2 y
            I.Binary(OpCode.Mul, 2, 2),           // 3 y^2
            I.Binary(OpCode.Mul, 3, 2),           // 4 y^3
            I.Const(0.044715f),                   // 5
            I.Binary(OpCode.Mul, 4, 5),           // 6
            I.Binary(OpCode.Add, 2, 6),           // 7
            I.Const(0.7978846f),                  // 8
            I.Binary(OpCode.Mul, 7, 8),           // 9
            I.Unary(OpCode.Tanh, 9),              // 10
            I.Const(1f),                          // 11
            I.Binary(OpCode.Add, 10, 11),         // 12
            I.Binary(OpCode.Mul, 2, 12),          // 13
            I.Const(0.5f),                        // 14
            I.Binary(OpCode.Mul, 13, 14),         // 15 gelu
            I.Const(0f),                          // 16
            I.Binary(OpCode.Greater, 2, 16),      // 17 y > 0
        ];
        Check([F32(shape), F32(65)], shape, program, [15, 17, 2], [DType.F32, DType.I32, DType.F32], [x, bias]);
    }

    [Fact]
    public void IntegerInputsAndOutputs()
    {
        // Cross-entropy style: compare an i32 target column [B, T, 1] with an iota row [V] loaded as float.
        long[] shape = [2, 3, 17];
        var targets = new[] { 0, 16, 5, 3, 3, 9 };
        var iota = Enumerable.Range(0, 17).ToArray();
        var z = Random(Elements(shape), 9, 5f);
        ImmutableArray<I> program =
        [
            I.Load(0),                              // 0 targets [2,3,1] (i32)
            I.Load(1),                              // 1 iota [17] (i32)
            I.Binary(OpCode.Equal, 0, 1),           // 2 one-hot
            I.Load(2),                              // 3 z
            I.Unary(OpCode.Cast, 3, DType.I32),     // 4 trunc(z)
            I.Binary(OpCode.Mul, 4, 2),             // 5
            I.Unary(OpCode.Detach, 5),              // 6
        ];
        Check([I32(2, 3, 1), I32(17), F32(shape)], shape, program, [2, 4, 6], [DType.F32, DType.I32, DType.I32], [targets, iota, z]);
    }

    [Fact]
    public void LargeTensorAcrossManyTiles()
    {
        long[] shape = [300, 1001];
        var x = Random(Elements(shape), 10);
        var col = Random(300, 11);
        Check([F32(shape), F32(300, 1)], shape,
            [I.Load(0), I.Load(1), I.Binary(OpCode.Sub, 0, 1), I.Unary(OpCode.Exp, 2), I.Unary(OpCode.Neg, 3)], [4, 3], [DType.F32, DType.F32], [x, col]);
    }

    [Fact]
    public void RankZeroOutput()
    {
        Check([F32(), F32(1)], [], [I.Load(0), I.Load(1), I.Binary(OpCode.Div, 0, 1)], [2], [DType.F32], [new[] { 3f }, new[] { 4f }]);
    }

    private static long[] Broadcast(long[] a, long[] b)
    {
        int rank = Math.Max(a.Length, b.Length);
        var shape = new long[rank];
        for (int d = 0; d < rank; d++)
        {
            long da = d < rank - a.Length ? 1 : a[d - (rank - a.Length)];
            long db = d < rank - b.Length ? 1 : b[d - (rank - b.Length)];
            shape[d] = Math.Max(da, db);
        }
        return shape;
    }

    /// <summary>Runs the program on the backend and compares each output with a per-element double interpreter.</summary>
    private static void Check(TensorDesc[] inputs, long[] shape, ImmutableArray<I> program, int[] outputs, DType[] types, object[] data)
    {
        var spec = new FusedElementwiseSpec([.. inputs], shape, program, [.. outputs], [.. types]);
        long n = Elements(shape);
        var got = Run(spec, data, outputs.Select(_ => n).ToArray());
        var regs = new double[program.Length];
        var expected = outputs.Select(_ => new double[n]).ToArray();
        for (long e = 0; e < n; e++)
        {
            var index = Unravel(e, shape);
            for (int i = 0; i < program.Length; i++)
            {
                var ins = program[i];
                double a = ins.A >= 0 && ins.Op == FusedOp.Compute ? regs[ins.A] : 0, b = ins.B >= 0 ? regs[ins.B] : 0;
                regs[i] = ins.Op switch
                {
                    FusedOp.Load => data[ins.A] is int[] ints
                        ? ints[BroadcastIndex(index, inputs[ins.A].Shape)]
                        : ((float[])data[ins.A])[BroadcastIndex(index, inputs[ins.A].Shape)],
                    FusedOp.Constant => ins.Value,
                    _ => ins.Code switch
                    {
                        OpCode.Neg => -a,
                        OpCode.Exp => Math.Exp(a),
                        OpCode.Log => Math.Log(a),
                        OpCode.Sqrt => Math.Sqrt(a),
                        OpCode.Recip => 1 / a,
                        OpCode.Tanh => Math.Tanh(a),
                        OpCode.Sin => Math.Sin(a),
                        OpCode.Cast => ins.CastTo == DType.I32 ? Math.Truncate(a) : a,
                        OpCode.Detach => a,
                        OpCode.Add => a + b,
                        OpCode.Sub => a - b,
                        OpCode.Mul => a * b,
                        OpCode.Div => a / b,
                        OpCode.Max => Math.Max(a, b),
                        OpCode.Greater => a > b ? 1 : 0,
                        OpCode.Equal => a == b ? 1 : 0,
                        _ => throw new InvalidOperationException(),
                    },
                };
            }
            for (int j = 0; j < outputs.Length; j++)
                expected[j][e] = types[j] == DType.I32 ? Math.Truncate(regs[outputs[j]]) : regs[outputs[j]];
        }
        for (int j = 0; j < outputs.Length; j++)
        {
            var actual = types[j] == DType.I32 ? AsInts(got[j]).Select(v => (float)v).ToArray() : got[j];
            AssertClose(expected[j], actual, Tolerance, 1.0, $"{spec.DisplayName} output {j}");
        }
    }
}
