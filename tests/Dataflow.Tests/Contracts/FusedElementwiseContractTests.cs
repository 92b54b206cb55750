using System.Collections.Immutable;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// Fused elementwise programs on the CPU and on every device backend under each kernel plan against a
/// reference that runs the program instruction by instruction in double through each op's catalog
/// semantics (<see cref="OpDef.Apply"/>), rounding every register to float as the kernels hold it, and
/// the devices against the CPU. Tolerance: NMSE ≤ 1e-7 and max relative error ≤ 2e-6 against the
/// reference (exp, log, tanh, sin are a few ulps from correctly rounded in libm and the devices'
/// built-ins, and the error grows through a chain; measured at most 1.2e-7 for the chain and 3.5e-7
/// for exp(tanh), on vulkan), ≤ 1e-5 against the CPU; comparisons and casts must agree exactly.
/// </summary>
public sealed class FusedElementwiseContractTests(DeviceBackends backends, ITestOutputHelper log) : IClassFixture<DeviceBackends>
{
    private static readonly object[][] ShapeCases =
    [
        [new long[] { }, new long[] { }],                 // rank 0
        [new long[] { 1 }, new long[] { }],
        [new long[] { 17 }, new long[] { 1 }],
        [new long[] { 3, 65 }, new long[] { 65 }],        // row vector over rows
        [new long[] { 3, 65 }, new long[] { 3, 1 }],      // column over columns
        [new long[] { 2, 3, 17 }, new long[] { 3, 1 }],
        [new long[] { 2, 1, 5, 130 }, new long[] { 5, 1 }], // rank 4 with a size-1 axis
        [new long[] { 2, 3, 5, 7 }, new long[] { 2, 1, 5, 1 }],
        [new long[] { 130, 130 }, new long[] { }],
    ];

    public static IEnumerable<object[]> Shapes => DeviceBackends.Cross(DeviceBackends.Subjects, ShapeCases);

    public static TheoryData<string> Devices => DeviceBackends.Each(DeviceBackends.Subjects);

    /// <summary>Every elementwise op in one chain: x and y broadcast, two f32 outputs and an i32 one.</summary>
    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryOpAgrees(string name, long[] shape, long[] yShape)
    {
        ImmutableArray<FusedInstruction> program =
        [
            FusedInstruction.Load(0),                           // r0 x
            FusedInstruction.Load(1),                           // r1 y
            FusedInstruction.Binary(OpCode.Add, 0, 1),          // r2 x + y
            FusedInstruction.Binary(OpCode.Mul, 2, 2),          // r3
            FusedInstruction.Const(1f),                         // r4
            FusedInstruction.Binary(OpCode.Add, 3, 4),          // r5 > 0
            FusedInstruction.Unary(OpCode.Log, 5),              // r6
            FusedInstruction.Unary(OpCode.Sqrt, 5),             // r7
            FusedInstruction.Unary(OpCode.Recip, 5),            // r8
            FusedInstruction.Unary(OpCode.Tanh, 2),             // r9
            FusedInstruction.Unary(OpCode.Sin, 2),              // r10
            FusedInstruction.Unary(OpCode.Exp, 9),              // r11
            FusedInstruction.Binary(OpCode.Div, 6, 7),          // r12
            FusedInstruction.Binary(OpCode.Max, 10, 12),        // r13
            FusedInstruction.Binary(OpCode.Greater, 0, 1),      // r14
            FusedInstruction.Binary(OpCode.Equal, 14, 4),       // r15
            FusedInstruction.Unary(OpCode.Neg, 13),             // r16
            FusedInstruction.Binary(OpCode.Sub, 16, 8),         // r17
            FusedInstruction.Binary(OpCode.Mul, 17, 15),        // r18
            FusedInstruction.Unary(OpCode.Detach, 18),          // r19
            FusedInstruction.Const(7.5f),                       // r20
            FusedInstruction.Binary(OpCode.Mul, 2, 20),         // r21
            FusedInstruction.Unary(OpCode.Cast, 21, DType.I32), // r22 truncated
        ];
        var spec = new FusedElementwiseSpec([F32(shape), F32(yShape)], shape, program, [19, 11, 22], [DType.F32, DType.F32, DType.I32]);
        long n = Elements(shape);
        var x = Random(n, 1, 2f);
        var y = Random(Elements(yShape), 2, 2f);
        var (cpu, device) = backends.RunBoth(name, spec, [x, y], [n, n, n]);
        string what = $"{name} fused [{string.Join(",", shape)}] with [{string.Join(",", yShape)}]";
        ErrorMeasure.AssertClose(cpu[0], device[0], 1e-5, what + " chain", log);
        ErrorMeasure.AssertClose(cpu[1], device[1], 1e-5, what + " exp(tanh)", log);
        Assert.Equal(Bits(cpu[2]), Bits(device[2]));
        var exact = Reference(spec, [x, y]);
        ErrorMeasure.AssertClose(exact[0], device[0], 2e-6, what + " chain vs reference", log);
        ErrorMeasure.AssertClose(exact[1], device[1], 2e-6, what + " exp(tanh) vs reference", log);
        Assert.Equal(Bits(exact[2]), Bits(device[2]));
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void IntegerInputsConvertOnLoadAndOutputsOnStore(string name)
    {
        ImmutableArray<FusedInstruction> program =
        [
            FusedInstruction.Load(0),
            FusedInstruction.Load(1),
            FusedInstruction.Binary(OpCode.Mul, 0, 1),
            FusedInstruction.Unary(OpCode.Cast, 2, DType.I32),
            FusedInstruction.Binary(OpCode.Equal, 0, 3),
        ];
        var spec = new FusedElementwiseSpec([I32(4, 17), F32(17)], [4, 17], program, [3, 2, 4], [DType.I32, DType.F32, DType.F32]);
        var r = new Random(3);
        var idx = Enumerable.Range(0, 68).Select(_ => r.Next(-1000, 1000)).ToArray();
        object[] inputs = [idx, Random(17, 4, 3f)];
        var (cpu, device) = backends.RunBoth(name, spec, inputs, [68, 68, 68]);
        var exact = Reference(spec, inputs);
        for (int j = 0; j < 3; j++)
        {
            ErrorMeasure.AssertIdentical(cpu[j], device[j], $"{name} i32 fused output {j}");
            ErrorMeasure.AssertIdentical(exact[j], device[j], $"{name} i32 fused output {j} vs reference");
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void MaxAndNonFiniteValuesFollowTheCpu(string name)
    {
        ImmutableArray<FusedInstruction> program =
        [
            FusedInstruction.Load(0),
            FusedInstruction.Load(1),
            FusedInstruction.Binary(OpCode.Max, 0, 1),
            FusedInstruction.Unary(OpCode.Exp, 0),
            FusedInstruction.Unary(OpCode.Log, 1),
            FusedInstruction.Unary(OpCode.Recip, 1),
        ];
        float[] a = [float.NaN, 1f, -0f, 0f, float.NegativeInfinity, 100f, -3f, float.PositiveInfinity];
        float[] b = [1f, float.NaN, 0f, -0f, -5f, 2f, -0f, 0f];
        var spec = new FusedElementwiseSpec([F32(8), F32(8)], [8], program, [2, 3, 4, 5], [DType.F32, DType.F32, DType.F32, DType.F32]);
        var (cpu, device) = backends.RunBoth(name, spec, [a, b], [8, 8, 8, 8]);
        var exact = Reference(spec, [a, b]);
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} max");
        ErrorMeasure.AssertIdentical(exact[0], device[0], $"{name} max vs reference");
        for (int j = 1; j < 4; j++)
        {
            ErrorMeasure.AssertClose(cpu[j], device[j], 1e-6, $"{name} non-finite output {j}", log);
            ErrorMeasure.AssertClose(exact[j], device[j], 1e-6, $"{name} non-finite output {j} vs reference", log);
        }
    }

    /// <summary>
    /// The program run element by element: a load reads its input broadcast to the output shape (i32
    /// converted to float), every other instruction is the catalog's scalar rule in double, rounded to
    /// float because a kernel's registers are f32; i32 outputs store the register truncated, as raw bits.
    /// </summary>
    private static float[][] Reference(FusedElementwiseSpec spec, object[] inputs)
    {
        long n = spec.Elements;
        var outputs = spec.Outputs.Select(_ => new float[n]).ToArray();
        var registers = new double[spec.Program.Length];
        var index = new long[spec.Shape.Length];
        for (long e = 0; e < n; e++)
        {
            for (long rest = e, d = spec.Shape.Length - 1; d >= 0; d--, rest /= spec.Shape[d + 1]) index[d] = rest % spec.Shape[d];
            for (int i = 0; i < registers.Length; i++)
            {
                var ins = spec.Program[i];
                registers[i] = (float)(ins.Op switch
                {
                    FusedOp.Load => Loaded(inputs[ins.A], spec.Inputs[ins.A].Shape, index),
                    FusedOp.Constant => ins.Value,
                    _ => OpCatalog.Get(ins.Code).Apply(registers[ins.A], ins.B < 0 ? 0 : registers[ins.B], ins.CastTo),
                });
            }
            for (int o = 0; o < outputs.Length; o++)
            {
                double v = registers[spec.Outputs[o]];
                outputs[o][e] = spec.OutputTypes[o] == DType.I32 ? BitConverter.Int32BitsToSingle((int)v) : (float)v;
            }
        }
        return outputs;
    }

    /// <summary>Input element at output index <paramref name="index"/>: axes aligned on the right, size-1 axes read index 0.</summary>
    private static double Loaded(object input, long[] shape, long[] index)
    {
        long source = 0;
        for (int d = 0; d < shape.Length; d++) source = source * shape[d] + (shape[d] == 1 ? 0 : index[index.Length - shape.Length + d]);
        return input is int[] ints ? ints[source] : ((float[])input)[source];
    }
}
