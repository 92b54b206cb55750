using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.OpenCL;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// Reshape, Permute and Expand move bits: on every backend, the CPU included, the result must be the
/// moved input element for element (an index-math reference here), and on the device backends the CPU's too.
/// </summary>
public sealed class MovementContractTests(DeviceBackends backends) : IClassFixture<DeviceBackends>
{
    public static TheoryData<string> Devices => DeviceBackends.Each(DeviceBackends.All);

    private static readonly object[][] PermuteCases =
    [
        [new long[] { }, new int[] { }],
        [new long[] { 17 }, new int[] { 0 }],
        [new long[] { 3, 65 }, new int[] { 1, 0 }],
        [new long[] { 130, 17 }, new int[] { 1, 0 }],
        [new long[] { 2, 3, 17 }, new int[] { 0, 2, 1 }],
        [new long[] { 2, 3, 17 }, new int[] { 2, 0, 1 }],
        [new long[] { 2, 3, 5, 7 }, new int[] { 0, 2, 1, 3 }],   // attention heads
        [new long[] { 2, 3, 5, 7 }, new int[] { 3, 2, 1, 0 }],
        [new long[] { 4, 1, 5, 6 }, new int[] { 1, 3, 0, 2 }],
    ];

    public static IEnumerable<object[]> Permutes => DeviceBackends.Cross(DeviceBackends.All, PermuteCases);

    [Theory]
    [MemberData(nameof(Permutes))]
    public void PermuteAgrees(string name, long[] shape, int[] perm)
    {
        var outShape = perm.Select(p => shape[p]).ToArray();
        var spec = new OpKernelSpec(OpCode.Permute, new OpAttrs { Perm = [.. perm] }, [F32(shape)], F32(outShape));
        var x = Random(Elements(shape), 1);
        var (cpu, device) = backends.RunBoth(name, spec, [x], [Elements(shape)]);
        ErrorMeasure.AssertIdentical(Moved(x, shape, outShape, (index, d) => index[Array.IndexOf(perm, d)]), device[0], $"{name} permute vs reference");
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} permute [{string.Join(",", shape)}] by [{string.Join(",", perm)}]");
    }

    private static readonly object[][] ExpandCases =
    [
        [new long[] { }, new long[] { 17 }],
        [new long[] { 1 }, new long[] { 3, 65 }],
        [new long[] { 65 }, new long[] { 3, 65 }],
        [new long[] { 3, 1 }, new long[] { 3, 65 }],
        [new long[] { 2, 1, 5, 1 }, new long[] { 2, 3, 5, 7 }],
        [new long[] { 1, 130 }, new long[] { 130, 130 }],
    ];

    public static IEnumerable<object[]> Expands => DeviceBackends.Cross(DeviceBackends.All, ExpandCases);

    [Theory]
    [MemberData(nameof(Expands))]
    public void ExpandAgrees(string name, long[] shape, long[] outShape)
    {
        var spec = new OpKernelSpec(OpCode.Expand, new OpAttrs { Shape = Shape.Of(outShape) }, [F32(shape)], F32(outShape));
        var x = Random(Elements(shape), 2);
        var (cpu, device) = backends.RunBoth(name, spec, [x], [Elements(outShape)]);
        // Input axis d is output axis d + (rank difference); a size-1 axis reads index 0.
        int lead = outShape.Length - shape.Length;
        ErrorMeasure.AssertIdentical(Moved(x, shape, outShape, (index, d) => shape[d] == 1 ? 0 : index[d + lead]), device[0], $"{name} expand vs reference");
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} expand [{string.Join(",", shape)}] to [{string.Join(",", outShape)}]");
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void ReshapeCopiesBitsOfEitherType(string name)
    {
        var ints = Enumerable.Range(-30, 65 * 2).ToArray();
        var spec = new OpKernelSpec(OpCode.Reshape, new OpAttrs { Shape = Shape.Of(2, 65) }, [I32(130)], I32(2, 65));
        var (cpu, device) = backends.RunBoth(name, spec, [ints], [130]);
        Assert.Equal(ints, Bits(device[0]));
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} reshape");
    }

    /// <summary>
    /// Each output element (row-major over <paramref name="outShape"/>) read from the input element whose
    /// index along input axis d is <paramref name="inputIndex"/>(output index, d).
    /// </summary>
    private static float[] Moved(float[] x, long[] shape, long[] outShape, Func<long[], int, long> inputIndex)
    {
        var result = new float[Elements(outShape)];
        var index = new long[outShape.Length];
        for (long e = 0; e < result.Length; e++)
        {
            long rest = e;
            for (int d = outShape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % outShape[d];
                rest /= outShape[d];
            }
            long source = 0;
            for (int d = 0; d < shape.Length; d++) source = source * shape[d] + inputIndex(index, d);
            result[e] = x[source];
        }
        return result;
    }
}
