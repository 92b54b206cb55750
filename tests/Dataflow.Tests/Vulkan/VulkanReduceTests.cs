using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.OpenCL.OpenClFixture;

namespace Dataflow.Tests.Vulkan;

/// <summary>
/// ReduceSum / ReduceMax against the CPU and an exact sum, under both kernel plans: shared-memory
/// trees for long reductions (GPUs) and an invocation per output (CPU drivers). The compensated
/// sums must survive the shader compiler and the driver: a naive float sum of a million positive
/// terms drifts by ~1e-3 relative, the bound here is 1e-6. Max and i32 sums must agree exactly.
/// </summary>
public sealed class VulkanReduceTests(VulkanFixture fixture, ITestOutputHelper log) : IClassFixture<VulkanFixture>
{
    private static readonly string[] Plans = ["gpu", "cpu"];

    [Theory]
    [InlineData(new long[] { 17 }, new[] { 0 })]
    [InlineData(new long[] { 3, 65 }, new[] { 1 })]
    [InlineData(new long[] { 130, 65, 17 }, new[] { 0, 2 })]
    [InlineData(new long[] { 131_072 }, new[] { 0 })]
    [InlineData(new long[] { 1_000_000 }, new[] { 0 })]
    [InlineData(new long[] { 4, 300_000 }, new[] { 1 })]
    [InlineData(new long[] { 250_000, 4 }, new[] { 0 })]
    public void SumsStayAccurateAndMaxIsExact(long[] shape, int[] axes)
    {
        var x = Random(Elements(shape), 5).Select(v => Math.Abs(v) + 0.1f).ToArray();
        var outShape = shape.Where((_, i) => !axes.Contains(i)).ToArray();
        foreach (var plan in Plans)
        {
            string what = $"[{string.Join(",", shape)}] axes [{string.Join(",", axes)}] ({plan} plan)";
            var sum = new OpKernelSpec(OpCode.ReduceSum, new OpAttrs { Axes = [.. axes] }, [F32(shape)], F32(outShape));
            var (cpu, vk) = fixture.RunBoth(sum, [x], [Elements(outShape)], plan: plan);
            ErrorMeasure.AssertClose(cpu[0], vk[0], 1e-5, "sum " + what + " vs cpu", log);
            ErrorMeasure.AssertClose(ExactSum(x, shape, axes), vk[0], 1e-6, "sum " + what + " vs exact", log);
            var max = sum with { Op = OpCode.ReduceMax };
            (cpu, vk) = fixture.RunBoth(max, [x], [Elements(outShape)], plan: plan);
            ErrorMeasure.AssertIdentical(cpu[0], vk[0], "max " + what);
        }
    }

    [Fact]
    public void MaxPropagatesNaNAndIntegerSumsWrap()
    {
        var x = new float[4 * 100];
        Array.Fill(x, float.NegativeInfinity, 0, 100);
        x[150] = float.NaN;
        for (int i = 200; i < 400; i++) x[i] = i;
        var r = new Random(9);
        var ints = Enumerable.Range(0, 3 * 1000).Select(_ => r.Next(int.MinValue / 2, int.MaxValue / 2)).ToArray();
        foreach (var plan in Plans)
        {
            var max = new OpKernelSpec(OpCode.ReduceMax, new OpAttrs { Axes = [1] }, [F32(4, 100)], F32(4));
            var (cpu, vk) = fixture.RunBoth(max, [x], [4], plan: plan);
            ErrorMeasure.AssertIdentical(cpu[0], vk[0], $"max with NaN and -inf ({plan} plan)");
            var sum = new OpKernelSpec(OpCode.ReduceSum, new OpAttrs { Axes = [1] }, [I32(3, 1000)], I32(3));
            (cpu, vk) = fixture.RunBoth(sum, [ints], [3], plan: plan);
            Assert.Equal(Bits(cpu[0]), Bits(vk[0]));
        }
    }

    /// <summary>The sum in double, rounded once to float: what a perfect float reduction returns.</summary>
    private static float[] ExactSum(float[] x, long[] shape, int[] axes)
    {
        var keptShape = shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        var sums = new double[Elements(keptShape)];
        var index = new long[shape.Length];
        for (long e = 0; e < x.Length; e++)
        {
            long rest = e, o = 0;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            for (int d = 0; d < shape.Length; d++) o = o * keptShape[d] + (axes.Contains(d) ? 0 : index[d]);
            sums[o] += x[e];
        }
        return sums.Select(v => (float)v).ToArray();
    }
}
