using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Engine.Backends;
using Dataflow.Tests.Contracts;

namespace Dataflow.Tests.OpenCL;

/// <summary>
/// One OpenCL backend (and a CPU reference) per test class. There is no skip when OpenCL is
/// missing: tools/setup installs PoCL, so a missing device is a broken environment, and every test
/// of the class fails with the backend's reason.
/// </summary>
public sealed class OpenClFixture : IDisposable
{
    private readonly Lazy<OpenClBackend> _gpuPlan = new(() => OpenClBackend.Create(0, KernelPlan.Gpu));
    private readonly Lazy<OpenClBackend> _cpuPlan = new(() => OpenClBackend.Create(0, KernelPlan.Cpu));

    public OpenClFixture()
    {
        Backend = OpenClBackend.Create();
    }

    /// <summary>The first device with the kernel plan its kind calls for (on PoCL: <see cref="KernelPlan.Cpu"/>).</summary>
    public OpenClBackend Backend { get; }
    public CpuBackend Cpu { get; } = new();

    /// <summary>
    /// The same device under each kernel plan, so a CPU driver also checks the local-memory tiles and
    /// trees meant for GPUs, and a GPU also checks the register-blocked kernels meant for CPUs.
    /// </summary>
    public OpenClBackend WithPlan(string plan) => plan switch
    {
        "gpu" => _gpuPlan.Value,
        "cpu" => _cpuPlan.Value,
        _ => throw new ArgumentException($"no kernel plan '{plan}' (gpu, cpu)", nameof(plan)),
    };

    public void Dispose()
    {
        Backend.Dispose();
        if (_gpuPlan.IsValueCreated) _gpuPlan.Value.Dispose();
        if (_cpuPlan.IsValueCreated) _cpuPlan.Value.Dispose();
        Cpu.Dispose();
    }

    /// <summary>Runs <paramref name="spec"/> on both backends with the same inputs; outputs as raw floats.</summary>
    /// <param name="plan">A kernel plan for <see cref="WithPlan"/>, or null for <see cref="Backend"/>.</param>
    public (float[][] Cpu, float[][] OpenCl) RunBoth(KernelSpec spec, object[] inputs, long[] outputElements, LaunchParams? launch = null, string? plan = null) =>
        (KernelRunner.Run(Cpu, spec, inputs, outputElements, launch), KernelRunner.Run(plan is null ? Backend : WithPlan(plan), spec, inputs, outputElements, launch));
}
