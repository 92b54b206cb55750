using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Backends.Vulkan;
using Dataflow.Engine;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends;

/// <summary>
/// Backends by name: <c>cpu</c>, <c>opencl</c>, <c>vulkan</c> or <c>auto</c>. An unknown name is a
/// <see cref="ConfigurationException"/>; a known backend this machine cannot provide throws
/// <see cref="BackendUnavailableException"/> with the reason. A device backend comes paired with the
/// CPU backend (<see cref="WithFallback"/>), which runs the kernels the device does not support.
/// </summary>
public static class BackendCatalog
{
    public static IReadOnlyList<string> Names { get; } = ["cpu", "opencl", "vulkan", "auto"];

    public static IBackend Create(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => new CpuBackend(),
        "opencl" => WithCpuFallback(OpenClBackend.Create()),
        "auto" => Auto(),
        "vulkan" => WithCpuFallback(VulkanBackend.Create()),
        _ => throw new ConfigurationException($"--backend {name}: unknown backend (known: {string.Join(", ", Names)})"),
    };

    private static IBackend WithCpuFallback(IBackend device) => new WithFallback(device, new CpuBackend());

    /// <summary>An OpenCL GPU when there is one; otherwise the CPU backend, which is faster than OpenCL on a CPU device.</summary>
    private static IBackend Auto()
    {
        try
        {
            var devices = OpenClBackend.ListDevices();
            if (devices.Count > 0 && devices[0].Kind == "gpu") return WithCpuFallback(OpenClBackend.Create());
        }
        catch (BackendUnavailableException)
        {
            // No OpenCL at all: the CPU backend needs nothing.
        }
        return new CpuBackend();
    }
}
