using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.OpenCL.OpenClFixture;

namespace Dataflow.Tests.OpenCL;

/// <summary>Reshape, Permute and Expand move bits: the result must be the CPU's, element for element.</summary>
public sealed class OpenClMovementTests(OpenClFixture fixture) : IClassFixture<OpenClFixture>
{
    public static TheoryData<long[], int[]> Permutes => new()
    {
        { [], [] },
        { [17], [0] },
        { [3, 65], [1, 0] },
        { [130, 17], [1, 0] },
        { [2, 3, 17], [0, 2, 1] },
        { [2, 3, 17], [2, 0, 1] },
        { [2, 3, 5, 7], [0, 2, 1, 3] },   // attention heads
        { [2, 3, 5, 7], [3, 2, 1, 0] },
        { [4, 1, 5, 6], [1, 3, 0, 2] },
    };

    [Theory]
    [MemberData(nameof(Permutes))]
    public void PermuteAgrees(long[] shape, int[] perm)
    {
        var outShape = perm.Select(p => shape[p]).ToArray();
        var spec = new OpKernelSpec(OpCode.Permute, new OpAttrs { Perm = [.. perm] }, [F32(shape)], F32(outShape));
        var (cpu, ocl) = fixture.RunBoth(spec, [Random(Elements(shape), 1)], [Elements(shape)]);
        ErrorMeasure.AssertIdentical(cpu[0], ocl[0], $"permute [{string.Join(",", shape)}] by [{string.Join(",", perm)}]");
    }

    public static TheoryData<long[], long[]> Expands => new()
    {
        { [], [17] },
        { [1], [3, 65] },
        { [65], [3, 65] },
        { [3, 1], [3, 65] },
        { [2, 1, 5, 1], [2, 3, 5, 7] },
        { [1, 130], [130, 130] },
    };

    [Theory]
    [MemberData(nameof(Expands))]
    public void ExpandAgrees(long[] shape, long[] outShape)
    {
        var spec = new OpKernelSpec(OpCode.Expand, new OpAttrs { Shape = Shape.Of(outShape) }, [F32(shape)], F32(outShape));
        var (cpu, ocl) = fixture.RunBoth(spec, [Random(Elements(shape), 2)], [Elements(outShape)]);
        ErrorMeasure.AssertIdentical(cpu[0], ocl[0], $"expand [{string.Join(",", shape)}] to [{string.Join(",", outShape)}]");
    }

    [Fact]
    public void ReshapeCopiesBitsOfEitherType()
    {
        var ints = Enumerable.Range(-30, 65 * 2).ToArray();
        var spec = new OpKernelSpec(OpCode.Reshape, new OpAttrs { Shape = Shape.Of(2, 65) }, [I32(130)], I32(2, 65));
        var (cpu, ocl) = fixture.RunBoth(spec, [ints], [130]);
        Assert.Equal(ints, Bits(ocl[0]));
        ErrorMeasure.AssertIdentical(cpu[0], ocl[0], "reshape");
    }
}
