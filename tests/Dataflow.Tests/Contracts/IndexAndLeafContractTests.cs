using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// Gather, ScatterAdd, OneHot and the leaves, on the CPU and on every device backend under each kernel
/// plan. The devices must match the CPU bit for bit: gather and one-hot move or set values, scatter-add
/// sums each element in the CPU's order, and the dropout mask reproduces <see cref="CounterRng"/> exactly.
/// Every backend also meets the graph's reference (<see cref="GraphReference"/>): gather, one-hot, iota,
/// the causal mask and constants exactly; scatter-add within max relative error (floor 1)
/// <see cref="ErrorMeasure.SumBound"/>(terms per row) of the double sum in index order: a float sum of
/// values in [-1, 1] rounded at each add (measured on every backend alike: 7.6e-6 for 385 terms a row,
/// 2.6e-6 for 91, 5.7e-7 for 5000 into one row).
/// The dropout mask has no second definition to compare with, so each backend's mask is checked for
/// what makes it dropout: only 0 and exactly 1/(1-p), kept in a fraction near 1-p.
/// </summary>
public sealed class IndexAndLeafContractTests(DeviceBackends backends, ITestOutputHelper log) : IClassFixture<DeviceBackends>
{
    public static TheoryData<string> Devices => DeviceBackends.Each(DeviceBackends.Subjects);

    [Theory]
    [MemberData(nameof(Devices))]
    public void GatherRowsWithOutOfRangeAsZeros(string name)
    {
        int[] index = [4, 0, -1, 2, 5, 4];
        var spec = new OpKernelSpec(OpCode.Gather, OpAttrs.None, [F32(5, 3, 2), I32(2, 3)], F32(2, 3, 3, 2));
        object[] inputs = [Random(30, 1), index];
        var (cpu, device) = backends.RunBoth(name, spec, inputs, [36]);
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} gather");
        ErrorMeasure.AssertIdentical(GraphReference.Floats(spec, inputs), device[0], $"{name} gather vs reference");
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void GatherFromVectorAndIntegerTables(string name)
    {
        var vector = new OpKernelSpec(OpCode.Gather, OpAttrs.None, [F32(3), I32(4)], F32(4));
        var (cpu, device) = backends.RunBoth(name, vector, [new[] { 10f, 20f, 30f }, new[] { 2, 2, 0, 1 }], [4]);
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} gather from a vector");
        Assert.Equal([30f, 30f, 10f, 20f], device[0]);

        var table = Enumerable.Range(0, 65 * 17).Select(i => i * 31 - 7).ToArray();
        var r = new Random(2);
        var index = Enumerable.Range(0, 130).Select(_ => r.Next(-2, 67)).ToArray();
        var ints = new OpKernelSpec(OpCode.Gather, OpAttrs.None, [I32(65, 17), I32(130)], I32(130, 17));
        (cpu, device) = backends.RunBoth(name, ints, [table, index], [130 * 17]);
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} gather from an i32 table");
        Assert.Equal(GraphReference.Ints(ints, [table, index]), Bits(device[0]));
    }

    /// <summary>
    /// Wide rows take the per-column plan on any device; one- and two-row scalar scatters take the
    /// per-element plan on any device with two or more compute units. Both sum in index order.
    /// </summary>
    public static IEnumerable<object[]> Scatters => DeviceBackends.Cross(DeviceBackends.Subjects,
        [7, 3, 11], [1, 1, 1], [5000, 1, 1], [130, 1, 2], [130, 1, 17], [1000, 1300, 11], [5000, 65, 13]);

    [Theory]
    [MemberData(nameof(Scatters))]
    public void ScatterAddMatchesBitForBit(string name, int count, int width, int rows)
    {
        var values = Random((long)count * width, 2);
        var r = new Random(3);
        var index = Enumerable.Range(0, count).Select(_ => r.Next(-1, rows + 1)).ToArray(); // includes out-of-range
        var spec = new OpKernelSpec(OpCode.ScatterAdd, new OpAttrs { Count = Dim.Const(rows) }, [F32(count, width), I32(count)], F32(rows, width)) { Count = rows };
        var (cpu, device) = backends.RunBoth(name, spec, [values, index], [(long)rows * width]);
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} scatter_add {count}x{width} into {rows}");
        ErrorMeasure.AssertClose(GraphReference.Floats(spec, [values, index]), device[0], ErrorMeasure.SumBound(Math.Max(1, count / rows)), $"{name} scatter_add {count}x{width} into {rows} vs exact", log);
        var again = Run(backends[name], spec, [values, index], [(long)rows * width]);
        ErrorMeasure.AssertIdentical(device[0], again[0], "scatter_add run twice");
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void OneHotWithOutOfRangeRows(string name)
    {
        int[] index = [0, 3, 4, -1, 2, 64, 65];
        var spec = new OpKernelSpec(OpCode.OneHot, new OpAttrs { Count = Dim.Const(65) }, [I32(7)], F32(7, 65)) { Count = 65 };
        var (cpu, device) = backends.RunBoth(name, spec, [index], [7 * 65]);
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} one_hot");
        ErrorMeasure.AssertIdentical(GraphReference.Floats(spec, [index]), device[0], $"{name} one_hot vs reference");
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void ConstantsFromValueCountAndData(string name)
    {
        var scalar = new OpKernelSpec(OpCode.Constant, new OpAttrs { Value = -0.1 }, [], F32(3, 17));
        var count = new OpKernelSpec(OpCode.Constant, new OpAttrs { Count = Dim.Symbol("T") }, [], F32()) { Count = 130 };
        var data = Random(65, 4);
        var tensor = new OpKernelSpec(OpCode.Constant, new OpAttrs { Data = data }, [], F32(5, 13));
        var one = new OpKernelSpec(OpCode.Constant, new OpAttrs { Data = [float.NegativeInfinity] }, [], F32(17));
        foreach (var (spec, n) in new[] { (scalar, 51L), (count, 1L), (tensor, 65L), (one, 17L) })
        {
            var (cpu, device) = backends.RunBoth(name, spec, [], [n]);
            ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} {spec.Key}");
            // The graph's constant carries its shape in the attributes; the kernel has it in its output.
            var shaped = spec with { Attrs = spec.Attrs with { Shape = Shape.Of(spec.Output.Shape) } };
            ErrorMeasure.AssertIdentical(GraphReference.Floats(shaped, [], new Dictionary<string, long> { ["T"] = 130 }), device[0], $"{name} {spec.Key} vs reference");
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void IotaAndCausalMask(string name)
    {
        var iota = new OpKernelSpec(OpCode.Iota, new OpAttrs { Count = Dim.Const(130) }, [], I32(130)) { Count = 130 };
        var (cpu, device) = backends.RunBoth(name, iota, [], [130]);
        Assert.Equal(GraphReference.Ints(iota, []), Bits(device[0]));
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} iota");

        foreach (long t in new long[] { 1, 3, 17, 65 })
        {
            var mask = new OpKernelSpec(OpCode.CausalMask, new OpAttrs { Count = Dim.Const(t) }, [], F32(t, t)) { Count = t };
            (cpu, device) = backends.RunBoth(name, mask, [], [t * t]);
            ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} causal_mask {t}");
            ErrorMeasure.AssertIdentical(GraphReference.Floats(mask, []), device[0], $"{name} causal_mask {t} vs reference");
        }
    }

    public static IEnumerable<object[]> Dropouts => DeviceBackends.Cross(DeviceBackends.Subjects,
        [0.1, 1UL], [0.5, 0x1234_5678_9ABC_DEF0UL], [0.9, ulong.MaxValue], [0.0, 42UL], [0.1, 0x12345678_9ABCDEF0UL], [0.5, 7UL]);

    [Theory]
    [MemberData(nameof(Dropouts))]
    public void DropoutMaskIsTheCpusBitForBit(string name, double p, ulong seed)
    {
        var spec = new OpKernelSpec(OpCode.DropoutMask, new OpAttrs { Value = p, Shape = Shape.Of(3, 17, 65) }, [], F32(3, 17, 65));
        var (cpu, device) = backends.RunBoth(name, spec, [], [3 * 17 * 65], new LaunchParams(seed, null));
        ErrorMeasure.AssertIdentical(cpu[0], device[0], $"{name} dropout_mask p={p} seed={seed:x}");
        for (uint i = 0; i < 20; i++) Assert.Equal(CounterRng.DropoutKeep(seed, i, (float)p), device[0][i]);

        // What makes it dropout (CounterRng.DropoutKeep): each element 0 or exactly 1/(1-p) in float,
        // kept with probability 1-p. 3315 draws: the kept fraction's standard deviation is at most
        // 0.0087, so 0.05 is more than five of them.
        float keep = 1.0f / (1.0f - (float)p);
        Assert.All(device[0], v => Assert.True(v == 0f || v == keep, $"{name} dropout_mask p={p}: {v} is neither 0 nor {keep}"));
        double kept = device[0].Count(v => v != 0f) / (double)device[0].Length;
        log.WriteLine($"{name} dropout_mask p={p} seed={seed:x}: kept {kept:F4}, expected {1 - p:F4}");
        Assert.InRange(kept, 1 - p - 0.05, 1 - p + 0.05);
    }
}
