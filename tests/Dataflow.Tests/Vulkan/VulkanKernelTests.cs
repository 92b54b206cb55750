using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.OpenCL;
using static Dataflow.Tests.Contracts.KernelRunner;
using Dataflow.Tests.Contracts;

namespace Dataflow.Tests.Vulkan;

/// <summary>
/// The Vulkan kernels the conformance suite reaches only at small sizes, under both kernel plans:
/// scatters long enough that a driver with a loop limit (lavapipe) runs them in passes. (Matmuls,
/// optimizer steps and the dropout mask are backend contracts: tests/Dataflow.Tests/Contracts.)
/// </summary>
public sealed class VulkanKernelTests(VulkanFixture fixture) : IClassFixture<VulkanFixture>
{
    [Theory]
    [InlineData(7, 3, 5, "gpu")]
    [InlineData(7, 3, 5, "cpu")]
    [InlineData(20_000, 4, 9, "gpu")]   // many indices: passes under a loop limit
    [InlineData(20_000, 4, 9, "cpu")]
    [InlineData(20_000, 300, 40, "cpu")]
    public void ScatterAddIsTheCpusBitForBit(int count, int width, int rows, string plan)
    {
        var r = new Random(count + width);
        var index = Enumerable.Range(0, count).Select(_ => r.Next(-1, rows + 1)).ToArray(); // some out of range
        var spec = new OpKernelSpec(OpCode.ScatterAdd, new OpAttrs { Count = Dim.Const(rows) }, [F32(count, width), I32(count)], F32(rows, width)) { Count = rows };
        var (cpu, vk) = fixture.RunBoth(spec, [Random((long)count * width, 3), index], [rows * width], plan: plan);
        ErrorMeasure.AssertIdentical(cpu[0], vk[0], $"scatter_add {spec.Key} ({plan} plan)");
    }
}
