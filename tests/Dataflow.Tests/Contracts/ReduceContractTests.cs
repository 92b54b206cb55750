using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// ReduceSum / ReduceMax on the CPU and on every device backend under each kernel plan (work-group
/// trees for long reductions on GPUs, a work-item per output on CPU drivers) against an exact
/// reduction in double, and the device backends against the CPU too.
/// Tolerance for sums: NMSE ≤ 1e-7 and max relative error (floor 1) ≤ 1e-6 against an exact
/// double-precision sum for the device backends (≤ 1e-5 for the CPU, which measures 1.6e-6 on a
/// strided 65-term sum), ≤ 1e-5 against the CPU: the device sums carry their rounding error (TwoSum)
/// through the strides and the tree, which must survive the compiler and driver, while the CPU's
/// column path adds 64-row float blocks, so the two may differ by a little more than either differs
/// from the truth. A naive float sum of a million positive terms drifts by ~1e-3. Max must agree
/// exactly, NaN and -inf included; i32 reductions exactly (sums wrap in 32 bits everywhere).
/// </summary>
public sealed class ReduceContractTests(DeviceBackends backends, ITestOutputHelper log) : IClassFixture<DeviceBackends>
{
    private static readonly object[][] ShapeCases =
    [
        [new long[] { }, new int[] { }],
        [new long[] { 1 }, new[] { 0 }],
        [new long[] { 17 }, new[] { 0 }],
        [new long[] { 3, 65 }, new[] { 1 }],
        [new long[] { 130, 3 }, new[] { 0 }],
        [new long[] { 2, 17, 5 }, new[] { 1 }],
        [new long[] { 4, 3, 5, 6 }, new[] { 0, 2 }],
        [new long[] { 4, 3, 5, 6 }, new[] { 1, 3 }],
        [new long[] { 4, 3, 5, 6 }, new[] { 0, 1, 2, 3 }],
        [new long[] { 4, 1, 5, 6 }, new[] { 1 }],
        [new long[] { 2, 3, 4 }, new[] { 0, 1 }],
        [new long[] { 2, 300, 3 }, new[] { 1 }],
        [new long[] { 130, 65, 17 }, new[] { 0, 2 }],
        [new long[] { 65, 130 }, new[] { 0, 1 }],
        [new long[] { 3, 17, 65, 2 }, new[] { 2 }],
    ];

    public static IEnumerable<object[]> Shapes => DeviceBackends.Cross(DeviceBackends.Subjects, ShapeCases);

    [Theory]
    [MemberData(nameof(Shapes))]
    public void SumAndMaxAgree(string name, long[] shape, int[] axes)
    {
        foreach (var keep in new[] { false, true })
        {
            var x = Random(Elements(shape), shape.Length * 7 + axes.Length, 3f);
            Check(name, OpCode.ReduceSum, shape, axes, keep, x, 1e-6);
            Check(name, OpCode.ReduceMax, shape, axes, keep, x, 0);
        }
    }

    private static readonly object[][] LongCases =
    [
        [new long[] { 17 }, new[] { 0 }],
        [new long[] { 3, 65 }, new[] { 1 }],
        [new long[] { 130, 65, 17 }, new[] { 0, 2 }],
        [new long[] { 131_072 }, new[] { 0 }],
        [new long[] { 1_000_000 }, new[] { 0 }],
        [new long[] { 4, 300_000 }, new[] { 1 }],
        [new long[] { 250_000, 4 }, new[] { 0 }],
        [new long[] { 1000, 1000 }, new[] { 1 }],
        [new long[] { 1000, 1000 }, new[] { 0 }],
    ];

    public static IEnumerable<object[]> Long => DeviceBackends.Cross(DeviceBackends.Subjects, LongCases);

    [Theory]
    [MemberData(nameof(Long))]
    public void LargeSumsStayAccurate(string name, long[] shape, int[] axes)
    {
        // All positive: a naive float sum of 1e6 terms drifts by ~1e-3 relative.
        var x = Random(Elements(shape), 5).Select(v => Math.Abs(v) + 0.1f).ToArray();
        Check(name, OpCode.ReduceSum, shape, axes, false, x, 1e-6);
        Check(name, OpCode.ReduceMax, shape, axes, false, x, 0);
    }

    public static TheoryData<string> Plans => DeviceBackends.Each(DeviceBackends.Subjects);

    [Theory]
    [MemberData(nameof(Plans))]
    public void MaxPropagatesNaNAndNegativeInfinity(string name)
    {
        var x = new float[4 * 100];
        Array.Fill(x, float.NegativeInfinity, 0, 100);
        x[150] = float.NaN;
        for (int i = 200; i < 400; i++) x[i] = i;
        x[5] = float.NaN; // row 0: -inf and a NaN
        Check(name, OpCode.ReduceMax, [4, 100], [1], false, x, 0);
        x[5] = float.NegativeInfinity;
        Check(name, OpCode.ReduceMax, [4, 100], [1], false, x, 0);
        Check(name, OpCode.ReduceMax, [4, 10], [1], false, x[..40], 0); // the per-work-item path
    }

    private static readonly object[][] IntegerCases =
    [
        [new long[] { 4, 6 }, new[] { 1 }],
        [new long[] { 4, 6 }, new[] { 0 }],
        [new long[] { 3, 1000 }, new[] { 1 }],
        [new long[] { 3, 1000, 7 }, new[] { 0, 1 }],
    ];

    public static IEnumerable<object[]> Integers => DeviceBackends.Cross(DeviceBackends.Subjects, IntegerCases);

    [Theory]
    [MemberData(nameof(Integers))]
    public void IntegerReductionsAreExact(string name, long[] shape, int[] axes)
    {
        var r = new Random(9);
        var x = Enumerable.Range(0, (int)Elements(shape)).Select(_ => r.Next(int.MinValue / 2, int.MaxValue / 2)).ToArray();
        foreach (var op in new[] { OpCode.ReduceSum, OpCode.ReduceMax })
        {
            var outShape = shape.Where((_, i) => !axes.Contains(i)).ToArray();
            var spec = new OpKernelSpec(op, new OpAttrs { Axes = [.. axes] }, [I32(shape)], I32(outShape));
            var (cpu, device) = backends.RunBoth(name, spec, [x], [Elements(outShape)]);
            Assert.Equal(Bits(cpu[0]), Bits(device[0])); // sums wrap in 32 bits on both
            Assert.Equal(IntegerReference(x, shape, axes, op), Bits(device[0]));
        }
    }

    private void Check(string name, OpCode op, long[] shape, int[] axes, bool keep, float[] x, double tolerance)
    {
        var outShape = keep
            ? shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray()
            : shape.Where((_, i) => !axes.Contains(i)).ToArray();
        var spec = new OpKernelSpec(op, new OpAttrs { Axes = [.. axes], KeepDims = keep }, [F32(shape)], F32(outShape));
        var (cpu, device) = backends.RunBoth(name, spec, [x], [Elements(outShape)]);
        string what = $"{name} {OpCatalog.Get(op).Name} [{string.Join(",", shape)}] axes [{string.Join(",", axes)}]{(keep ? " keepdims" : "")}";
        if (tolerance == 0)
        {
            ErrorMeasure.AssertIdentical(cpu[0], device[0], what);
            ErrorMeasure.AssertClose(Exact(x, shape, axes, double.NegativeInfinity, Math.Max), device[0], 0, what + " vs exact", log);
            return;
        }
        ErrorMeasure.AssertClose(cpu[0], device[0], 10 * tolerance, what + " vs cpu", log);
        // The CPU's column path adds plain float blocks without carrying the rounding error (changing its
        // order would move every seeded loss), so it is held to the bound it is compared with the devices at.
        var bound = name == "cpu" ? 10 * tolerance : tolerance;
        ErrorMeasure.AssertClose(Exact(x, shape, axes, 0, (a, b) => a + b), device[0], bound, what + " vs exact", log);
    }

    /// <summary>
    /// The reduction in double, rounded once to float: what a perfect float reduction returns (for max,
    /// the float max itself; NaN wins through Math.Max). The reference every backend, the CPU included, meets.
    /// </summary>
    private static float[] Exact(float[] x, long[] shape, int[] axes, double identity, Func<double, double, double> combine)
    {
        var sums = new double[Elements(KeptShape(shape, axes))];
        Array.Fill(sums, identity);
        foreach (var (e, o) in OutputOf(shape, axes)) sums[o] = combine(sums[o], x[e]);
        return sums.Select(v => (float)v).ToArray();
    }

    /// <summary>An i32 sum (wrapping in 32 bits) or max over <paramref name="axes"/>, element by element.</summary>
    private static int[] IntegerReference(int[] x, long[] shape, int[] axes, OpCode op)
    {
        var result = new int[Elements(KeptShape(shape, axes))];
        var seen = new bool[result.Length];
        foreach (var (e, o) in OutputOf(shape, axes))
        {
            result[o] = op == OpCode.ReduceSum ? unchecked(result[o] + x[e]) : seen[o] ? Math.Max(result[o], x[e]) : x[e];
            seen[o] = true;
        }
        return result;
    }

    private static long[] KeptShape(long[] shape, int[] axes) => shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();

    /// <summary>Each input element (row-major) with the output element it reduces into.</summary>
    private static IEnumerable<(long Element, long Output)> OutputOf(long[] shape, int[] axes)
    {
        var keptShape = KeptShape(shape, axes);
        var index = new long[shape.Length];
        long count = Elements(shape);
        for (long e = 0; e < count; e++)
        {
            long rest = e, o = 0;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                index[d] = rest % shape[d];
                rest /= shape[d];
            }
            for (int d = 0; d < shape.Length; d++) o = o * keptShape[d] + (axes.Contains(d) ? 0 : index[d]);
            yield return (e, o);
        }
    }
}
