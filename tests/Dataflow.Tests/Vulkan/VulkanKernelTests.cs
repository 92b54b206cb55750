using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.OpenCL.OpenClFixture;

namespace Dataflow.Tests.Vulkan;

/// <summary>
/// The Vulkan kernels the conformance suite reaches only at small sizes, under both kernel plans:
/// matmuls and scatters long enough that a driver with a loop limit (lavapipe) runs them in passes.
/// (Optimizer steps and the dropout mask are backend contracts: tests/Dataflow.Tests/Contracts.)
/// </summary>
public sealed class VulkanKernelTests(VulkanFixture fixture, ITestOutputHelper log) : IClassFixture<VulkanFixture>
{
    public static TheoryData<long[], long[], bool, bool, string> MatMuls()
    {
        var data = new TheoryData<long[], long[], bool, bool, string>();
        foreach (var plan in new[] { "gpu", "cpu" })
        {
            data.Add([33, 17], [17, 65], false, false, plan);
            data.Add([2, 3, 17, 33], [33, 9], true, false, plan);   // batched, A transposed, B broadcast
            data.Add([5, 40], [3, 5, 70, 40], false, true, plan);   // A broadcast, B transposed
            data.Add([3, 30_000], [30_000, 5], false, false, plan); // K long enough for passes under a loop limit
        }
        return data;
    }

    [Theory]
    [MemberData(nameof(MatMuls))]
    public void MatMulAgreesWithCpu(long[] a, long[] b, bool ta, bool tb, string plan)
    {
        long m = ta ? a[^1] : a[^2], n = tb ? b[^2] : b[^1];
        var batch = a.Length > b.Length ? a[..^2] : b[..^2];
        long[] outShape = [.. batch, m, n];
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeA = ta, TransposeB = tb }, [F32(a), F32(b)], F32(outShape));
        var (cpu, vk) = fixture.RunBoth(spec, [Random(Elements(a), 1), Random(Elements(b), 2)], [Elements(outShape)], plan: plan);
        ErrorMeasure.AssertClose(cpu[0], vk[0], 1e-4, $"matmul {spec.Key} ({plan} plan)", log);
        Assert.True(ErrorMeasure.Of(cpu[0], vk[0]).Nmse <= ErrorMeasure.Nmse);
    }

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
