using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Xunit.Abstractions;
using static Dataflow.Tests.OpenCL.OpenClFixture;

namespace Dataflow.Tests.OpenCL;

/// <summary>
/// ReduceSum / ReduceMax against the CPU. Tolerance for sums: NMSE ≤ 1e-7 against the CPU, and max
/// relative error (floor 1) ≤ 1e-6 against an exact double-precision sum: the OpenCL sums carry
/// their rounding error (TwoSum) through the strides and the tree, while the CPU's column path adds
/// 64-row float blocks, so the two may differ by a little more than either differs from the truth
/// (≤ 1e-5). Max must agree exactly, NaN and -inf included; i32 reductions exactly. Every case runs
/// under both kernel plans: work-group trees for long reductions (GPUs) and a work-item per output (CPUs).
/// </summary>
public sealed class OpenClReduceTests(OpenClFixture fixture, ITestOutputHelper log) : IClassFixture<OpenClFixture>
{
    public static TheoryData<long[], int[]> Cases => new()
    {
        { [], [] },
        { [1], [0] },
        { [17], [0] },
        { [3, 65], [1] },
        { [130, 3], [0] },
        { [2, 17, 5], [1] },
        { [4, 3, 5, 6], [0, 2] },
        { [4, 3, 5, 6], [1, 3] },
        { [4, 3, 5, 6], [0, 1, 2, 3] },
        { [4, 1, 5, 6], [1] },
        { [2, 3, 4], [0, 1] },
        { [2, 300, 3], [1] },
        { [130, 65, 17], [0, 2] },
        { [65, 130], [0, 1] },
        { [3, 17, 65, 2], [2] },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void SumAndMaxAgree(long[] shape, int[] axes)
    {
        foreach (var keep in new[] { false, true })
        {
            var x = Random(Elements(shape), shape.Length * 7 + axes.Length, 3f);
            Check(OpCode.ReduceSum, shape, axes, keep, x, 1e-6);
            Check(OpCode.ReduceMax, shape, axes, keep, x, 0);
        }
    }

    [Theory]
    [InlineData(new long[] { 1_000_000 }, new[] { 0 })]
    [InlineData(new long[] { 4, 300_000 }, new[] { 1 })]
    [InlineData(new long[] { 250_000, 4 }, new[] { 0 })]
    [InlineData(new long[] { 1000, 1000 }, new[] { 1 })]
    [InlineData(new long[] { 1000, 1000 }, new[] { 0 })]
    public void LargeSumsStayAccurate(long[] shape, int[] axes)
    {
        // All positive: a naive float sum of 1e6 terms drifts by ~1e-3 relative.
        var x = Random(Elements(shape), 5).Select(v => Math.Abs(v) + 0.1f).ToArray();
        Check(OpCode.ReduceSum, shape, axes, false, x, 1e-6);
        Check(OpCode.ReduceMax, shape, axes, false, x, 0);
    }

    [Fact]
    public void MaxPropagatesNaNAndNegativeInfinity()
    {
        var x = new float[4 * 100];
        Array.Fill(x, float.NegativeInfinity, 0, 100);
        x[150] = float.NaN;
        for (int i = 200; i < 400; i++) x[i] = i;
        x[5] = float.NaN; // row 0: -inf and a NaN
        Check(OpCode.ReduceMax, [4, 100], [1], false, x, 0);
        x[5] = float.NegativeInfinity;
        Check(OpCode.ReduceMax, [4, 100], [1], false, x, 0);
        Check(OpCode.ReduceMax, [4, 10], [1], false, x[..40], 0); // the per-work-item path
    }

    [Theory]
    [InlineData(new long[] { 4, 6 }, new[] { 1 })]
    [InlineData(new long[] { 4, 6 }, new[] { 0 })]
    [InlineData(new long[] { 3, 1000, 7 }, new[] { 0, 1 })]
    public void IntegerReductionsAreExact(long[] shape, int[] axes)
    {
        var r = new Random(9);
        var x = Enumerable.Range(0, (int)Elements(shape)).Select(_ => r.Next(int.MinValue / 2, int.MaxValue / 2)).ToArray();
        foreach (var plan in Plans)
        foreach (var op in new[] { OpCode.ReduceSum, OpCode.ReduceMax })
        {
            var outShape = shape.Where((_, i) => !axes.Contains(i)).ToArray();
            var spec = new OpKernelSpec(op, new OpAttrs { Axes = [.. axes] }, [I32(shape)], I32(outShape));
            var (cpu, ocl) = fixture.RunBoth(spec, [x], [Elements(outShape)], plan: plan);
            Assert.Equal(Bits(cpu[0]), Bits(ocl[0])); // sums wrap in 32 bits on both
        }
    }

    private static readonly string[] Plans = ["gpu", "cpu"];

    private void Check(OpCode op, long[] shape, int[] axes, bool keep, float[] x, double tolerance)
    {
        foreach (var plan in Plans) Check(op, shape, axes, keep, x, tolerance, plan);
    }

    private void Check(OpCode op, long[] shape, int[] axes, bool keep, float[] x, double tolerance, string plan)
    {
        var outShape = keep
            ? shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray()
            : shape.Where((_, i) => !axes.Contains(i)).ToArray();
        var spec = new OpKernelSpec(op, new OpAttrs { Axes = [.. axes], KeepDims = keep }, [F32(shape)], F32(outShape));
        var (cpu, ocl) = fixture.RunBoth(spec, [x], [Elements(outShape)], plan: plan);
        string what = $"{OpCatalog.Get(op).Name} [{string.Join(",", shape)}] axes [{string.Join(",", axes)}]{(keep ? " keepdims" : "")} ({plan} plan)";
        if (tolerance == 0)
        {
            ErrorMeasure.AssertIdentical(cpu[0], ocl[0], what);
            return;
        }
        ErrorMeasure.AssertClose(cpu[0], ocl[0], 10 * tolerance, what + " vs cpu", log);
        ErrorMeasure.AssertClose(ExactSum(x, shape, axes), ocl[0], tolerance, what + " vs exact", log);
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
