using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.OpenCL.OpenClFixture;

namespace Dataflow.Tests.Vulkan;

/// <summary>
/// The Vulkan kernels the conformance suite reaches only at small sizes, under both kernel plans:
/// matmuls and scatters long enough that a driver with a loop limit (lavapipe) runs them in passes,
/// optimizer steps over several steps, and the dropout mask bit for bit.
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

    [Theory]
    [InlineData(0.1, 0x12345678_9ABCDEF0UL)]
    [InlineData(0.5, 7UL)]
    public void DropoutMaskIsTheCpusBitForBit(double p, ulong seed)
    {
        var spec = new OpKernelSpec(OpCode.DropoutMask, new OpAttrs { Value = p, Shape = Shape.Of(3, 17, 65) }, [], F32(3, 17, 65));
        var (cpu, vk) = fixture.RunBoth(spec, [], [3 * 17 * 65], new LaunchParams(seed, null));
        ErrorMeasure.AssertIdentical(cpu[0], vk[0], $"dropout_mask p={p} seed={seed:x}");
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd, false, 17)]
    [InlineData(OptimizerKind.Sgd, true, 65)]
    [InlineData(OptimizerKind.Adam, true, 130)]
    [InlineData(OptimizerKind.AdamW, true, 65_537)]
    public void OptimizerStepsAgreeWithCpu(OptimizerKind kind, bool withState, int n)
    {
        var spec = new OptimizerStepSpec(kind, n);
        int state = kind == OptimizerKind.Sgd ? (withState ? 1 : 0) : 2;
        IBackend cpu = fixture.Cpu, vk = fixture.Backend;
        var cpuBuffers = Buffers(cpu, n, state);
        var vkBuffers = Buffers(vk, n, state);
        try
        {
            var cpuKernel = cpu.Compile(spec);
            var vkKernel = vk.Compile(spec);
            for (int step = 1; step <= 3; step++)
            {
                var grad = Random(n, 100 + step);
                cpu.Upload(cpuBuffers[1], grad);
                vk.Upload(vkBuffers[1], grad);
                var launch = new LaunchParams(0, Scalars(kind, step));
                cpu.Enqueue(cpuKernel, cpuBuffers, launch);
                vk.Enqueue(vkKernel, vkBuffers, launch);
            }
            vk.Wait();
            for (int b = 0; b < cpuBuffers.Length; b++)
            {
                if (b == 1) continue;
                var expected = new float[n];
                var actual = new float[n];
                cpu.Download(cpuBuffers[b], expected);
                vk.Download(vkBuffers[b], actual);
                ErrorMeasure.AssertClose(expected, actual, 1e-6, $"{spec.DisplayName}[{n}] buffer {b}", log);
            }
            Assert.Throws<ArgumentException>(() => vk.Enqueue(vkKernel, vkBuffers, LaunchParams.None)); // no scalars
        }
        finally
        {
            foreach (var b in cpuBuffers.Concat(vkBuffers)) b.Dispose();
        }
    }

    private static IDeviceBuffer[] Buffers(IBackend backend, int n, int state)
    {
        var buffers = new IDeviceBuffer[2 + state];
        for (int i = 0; i < buffers.Length; i++)
        {
            buffers[i] = backend.Allocate(n);
            if (i != 1) backend.Upload(buffers[i], i == 0 ? Random(n, 7, 2f) : new float[n]);
        }
        return buffers;
    }

    private static float[] Scalars(OptimizerKind kind, int step)
    {
        var s = new float[OptimizerScalars.Count];
        bool adam = kind != OptimizerKind.Sgd;
        float b1 = adam ? 0.9f : 0.8f, b2 = 0.999f;
        s[OptimizerScalars.LearningRate] = adam ? 3e-3f : 0.05f;
        s[OptimizerScalars.Beta1] = b1;
        s[OptimizerScalars.Beta2] = b2;
        s[OptimizerScalars.Epsilon] = 1e-8f;
        s[OptimizerScalars.WeightDecay] = 0.01f;
        s[OptimizerScalars.BiasCorrection1] = 1f - MathF.Pow(b1, step);
        s[OptimizerScalars.BiasCorrection2] = 1f - MathF.Pow(b2, step);
        s[OptimizerScalars.GradientScale] = 0.7f;
        return s;
    }
}
