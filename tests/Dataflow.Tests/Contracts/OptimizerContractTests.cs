using Dataflow.Engine.Backends;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// Optimizer steps on every device backend against the CPU, over several steps so state carries.
/// Tolerance: NMSE ≤ 1e-7 and max relative error ≤ 1e-6 for parameters and state (same formulas in
/// the same order, no fma, correctly rounded division and sqrt where the device offers them; in
/// practice they agree exactly).
/// </summary>
public sealed class OptimizerContractTests(DeviceBackends backends, ITestOutputHelper log) : IClassFixture<DeviceBackends>
{
    public static IEnumerable<object[]> Steps => DeviceBackends.Cross(DeviceBackends.Devices,
        [OptimizerKind.Sgd, false, 17],
        [OptimizerKind.Sgd, true, 65],
        [OptimizerKind.Adam, true, 130],
        [OptimizerKind.AdamW, true, 65_537],
        [OptimizerKind.AdamW, true, 1]);

    public static TheoryData<string> Devices => DeviceBackends.Each(DeviceBackends.Devices);

    [Theory]
    [MemberData(nameof(Steps))]
    public void StepsAgreeWithCpu(string name, OptimizerKind kind, bool withState, int n)
    {
        IBackend cpu = backends.Cpu, device = backends[name];
        var spec = new OptimizerStepSpec(kind, n);
        int state = kind == OptimizerKind.Sgd ? (withState ? 1 : 0) : 2;
        var cpuBuffers = Buffers(cpu, n, state);
        var deviceBuffers = Buffers(device, n, state);
        try
        {
            var cpuKernel = cpu.Compile(spec);
            var deviceKernel = device.Compile(spec);
            for (int step = 1; step <= 3; step++)
            {
                var grad = Random(n, 100 + step);
                cpu.Upload(cpuBuffers[1], grad);
                device.Upload(deviceBuffers[1], grad);
                var launch = new LaunchParams(0, Scalars(kind, step));
                cpu.Enqueue(cpuKernel, cpuBuffers, launch);
                device.Enqueue(deviceKernel, deviceBuffers, launch);
            }
            device.Wait();
            for (int b = 0; b < cpuBuffers.Length; b++)
            {
                if (b == 1) continue;
                var expected = new float[n];
                var actual = new float[n];
                cpu.Download(cpuBuffers[b], expected);
                device.Download(deviceBuffers[b], actual);
                ErrorMeasure.AssertClose(expected, actual, 1e-6, $"{name} {spec.DisplayName}[{n}] buffer {b}", log);
            }
        }
        finally
        {
            foreach (var b in cpuBuffers.Concat(deviceBuffers)) b.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Devices))]
    public void MissingScalarsAreAnError(string name)
    {
        var backend = backends[name];
        var kernel = backend.Compile(new OptimizerStepSpec(OptimizerKind.Adam, 3));
        var buffers = Buffers(backend, 3, 2);
        Assert.Throws<ArgumentException>(() => backend.Enqueue(kernel, buffers, LaunchParams.None));
        foreach (var b in buffers) b.Dispose();
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
