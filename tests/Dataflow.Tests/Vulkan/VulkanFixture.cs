using Dataflow.Backends.Cpu;
using Dataflow.Backends.Vulkan;
using Dataflow.Engine.Backends;
using Dataflow.Tests.Contracts;

namespace Dataflow.Tests.Vulkan;

/// <summary>
/// One Vulkan backend (and a CPU reference) per test class. There is no skip when Vulkan is
/// missing: tools/setup installs lavapipe, so a missing device is a broken environment, and every
/// test of the class fails with the backend's reason. Buffers, launches and random data go through
/// the OpenCL fixture's backend-neutral helpers.
/// </summary>
public sealed class VulkanFixture : IDisposable
{
    private readonly Lazy<VulkanBackend> _gpuPlan = new(() => VulkanBackend.Create(0, KernelPlan.Gpu));
    private readonly Lazy<VulkanBackend> _cpuPlan = new(() => VulkanBackend.Create(0, KernelPlan.Cpu));

    public VulkanFixture()
    {
        Backend = VulkanBackend.Create();
    }

    /// <summary>The first device with the kernel plan its kind calls for (on lavapipe: <see cref="KernelPlan.Cpu"/>).</summary>
    public VulkanBackend Backend { get; }
    public CpuBackend Cpu { get; } = new();

    /// <summary>The same device under each kernel plan, so a CPU driver also checks the shared-memory tiles and trees meant for GPUs.</summary>
    public VulkanBackend WithPlan(string plan) => plan switch
    {
        "gpu" => _gpuPlan.Value,
        "cpu" => _cpuPlan.Value,
        _ => throw new ArgumentException($"no kernel plan '{plan}' (gpu, cpu)", nameof(plan)),
    };

    /// <summary>Runs <paramref name="spec"/> on the CPU and on the plan's Vulkan backend with the same inputs; outputs as raw floats.</summary>
    public (float[][] Cpu, float[][] Vulkan) RunBoth(KernelSpec spec, object[] inputs, long[] outputElements, LaunchParams? launch = null, string? plan = null) =>
        (KernelRunner.Run(Cpu, spec, inputs, outputElements, launch),
         KernelRunner.Run(plan is null ? Backend : WithPlan(plan), spec, inputs, outputElements, launch));

    public void Dispose()
    {
        Backend.Dispose();
        if (_gpuPlan.IsValueCreated) _gpuPlan.Value.Dispose();
        if (_cpuPlan.IsValueCreated) _cpuPlan.Value.Dispose();
        Cpu.Dispose();
    }
}
