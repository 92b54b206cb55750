using Dataflow.Engine.Backends;
using Dataflow.Tests.OpenCL;
using Xunit.Abstractions;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// Optimizer steps on the CPU and on every device backend under each kernel plan, over several steps so
/// state carries, against the closed-form update in double, and the devices against the CPU.
/// Tolerance against the CPU: NMSE ≤ 1e-7 and max relative error ≤ 1e-6 for parameters and state (same
/// formulas in the same order, no fma, correctly rounded division and sqrt where the device offers them;
/// in practice they agree exactly). Against the double update: max relative error (floor 1) ≤ 1e-6, a
/// few float roundings per step on values of order 1, over three steps.
/// </summary>
public sealed class OptimizerContractTests(DeviceBackends backends, ITestOutputHelper log) : IClassFixture<DeviceBackends>
{
    public static IEnumerable<object[]> Steps => DeviceBackends.Cross(DeviceBackends.Subjects,
        [OptimizerKind.Sgd, false, 17],
        [OptimizerKind.Sgd, true, 65],
        [OptimizerKind.Adam, true, 130],
        [OptimizerKind.AdamW, true, 65_537],
        [OptimizerKind.AdamW, true, 1]);

    public static TheoryData<string> Devices => DeviceBackends.Each(DeviceBackends.Subjects);

    [Theory]
    [MemberData(nameof(Steps))]
    public void StepsAgreeWithCpu(string name, OptimizerKind kind, bool withState, int n)
    {
        IBackend cpu = backends.Cpu, device = backends[name];
        var spec = new OptimizerStepSpec(kind, n);
        int state = kind == OptimizerKind.Sgd ? (withState ? 1 : 0) : 2;
        var cpuBuffers = Buffers(cpu, n, state);
        var deviceBuffers = Buffers(device, n, state);
        var exact = new double[2 + state][];
        exact[0] = Random(n, 7, 2f).Select(v => (double)v).ToArray();
        for (int b = 2; b < exact.Length; b++) exact[b] = new double[n];
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
                ExactStep(kind, exact, grad, launch.Scalars!);
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
                ErrorMeasure.AssertClose(exact[b].Select(v => (float)v).ToArray(), actual, 1e-6, $"{name} {spec.DisplayName}[{n}] buffer {b} vs exact", log);
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

    /// <summary>
    /// One step of the documented update in double (backends/Dataflow.Backends.Cpu/Kernels/OptimizerKernels.cs,
    /// the formulas the engine's OptimizerConfig names), on parameter <c>s[0]</c> and state <c>s[2..]</c>:
    /// SGD p -= lr·(scale·g + wd·p); momentum v = μ·v + scale·g + wd·p, p -= lr·v;
    /// Adam ĝ = scale·g + wd·p (L2), AdamW ĝ = scale·g and p·(1 - lr·wd) (decoupled);
    /// m = β1·m + (1-β1)·ĝ, v = β2·v + (1-β2)·ĝ², p = p - lr·(m/bc1)/(√(v/bc2) + ε).
    /// The hyperparameters are the launch's float scalars, so both sides use the same values.
    /// </summary>
    private static void ExactStep(OptimizerKind kind, double[][] s, float[] grad, float[] scalars)
    {
        double lr = scalars[OptimizerScalars.LearningRate], b1 = scalars[OptimizerScalars.Beta1], b2 = scalars[OptimizerScalars.Beta2];
        double eps = scalars[OptimizerScalars.Epsilon], wd = scalars[OptimizerScalars.WeightDecay], scale = scalars[OptimizerScalars.GradientScale];
        double bc1 = scalars[OptimizerScalars.BiasCorrection1], bc2 = scalars[OptimizerScalars.BiasCorrection2];
        var p = s[0];
        for (int i = 0; i < p.Length; i++)
        {
            double g = scale * grad[i];
            if (kind == OptimizerKind.Sgd && s.Length == 2) p[i] -= lr * (g + wd * p[i]);
            else if (kind == OptimizerKind.Sgd)
            {
                s[2][i] = b1 * s[2][i] + g + wd * p[i];
                p[i] -= lr * s[2][i];
            }
            else
            {
                bool decoupled = kind == OptimizerKind.AdamW;
                double gh = decoupled ? g : g + wd * p[i];
                s[2][i] = b1 * s[2][i] + (1 - b1) * gh;
                s[3][i] = b2 * s[3][i] + (1 - b2) * gh * gh;
                p[i] = p[i] * (decoupled ? 1 - lr * wd : 1) - lr * (s[2][i] / bc1) / (Math.Sqrt(s[3][i] / bc2) + eps);
            }
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
