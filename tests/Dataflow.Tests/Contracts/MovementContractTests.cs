using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.OpenCL;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>Reshape, Permute and Expand move bits: on every device backend the result must be the CPU's, element for element.</summary>
public sealed class MovementContractTests(DeviceBackends backends) : IClassFixture<DeviceBackends>
{
    public static TheoryData<string> Devices => DeviceBackends.Each(DeviceBackends.Devices);

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

    public static IEnumerable<object[]> Permutes => DeviceBackends.Cross(DeviceBackends.Devices, PermuteCases);

    [Theory]
    [MemberData(nameof(Permutes))]
    public void PermuteAgrees(string name, long[] shape, int[] perm)
    {
        var outShape = perm.Select(p => shape[p]).ToArray();
        var spec = new OpKernelSpec(OpCode.Permute, new OpAttrs { Perm = [.. perm] }, [F32(shape)], F32(outShape));
        var (cpu, device) = backends.RunBoth(name, spec, [Random(Elements(shape), 1)], [Elements(shape)]);
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

    public static IEnumerable<object[]> Expands => DeviceBackends.Cross(DeviceBackends.Devices, ExpandCases);

    [Theory]
    [MemberData(nameof(Expands))]
    public void ExpandAgrees(string name, long[] shape, long[] outShape)
    {
        var spec = new OpKernelSpec(OpCode.Expand, new OpAttrs { Shape = Shape.Of(outShape) }, [F32(shape)], F32(outShape));
        var (cpu, device) = backends.RunBoth(name, spec, [Random(Elements(shape), 2)], [Elements(outShape)]);
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
}