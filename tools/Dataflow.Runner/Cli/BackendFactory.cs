using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Backends.Vulkan;
using Dataflow.Engine.Backends;

namespace Dataflow.Runner.Cli;

/// <summary>Turns <c>--backend NAME</c> into a backend, or says why the environment cannot provide it (exit 2).</summary>
public static class BackendFactory
{
    public static IBackend Create(string name) => name.ToLowerInvariant() switch
    {
        "cpu" => new CpuBackend(),
        "opencl" => OpenClBackend.Create(),
        "auto" => Auto(),
        "vulkan" => VulkanBackend.Create(),
        _ => throw new UsageException($"--backend {name}: unknown backend (known: cpu, opencl, vulkan, auto)"),
    };

    /// <summary>An OpenCL GPU when there is one; otherwise the CPU backend, which is faster than OpenCL on a CPU device.</summary>
    private static IBackend Auto()
    {
        try
        {
            var devices = OpenClBackend.ListDevices();
            if (devices.Count > 0 && devices[0].Kind == "gpu") return OpenClBackend.Create();
        }
        catch (BackendUnavailableException)
        {
            // No OpenCL at all: the CPU backend needs nothing.
        }
        return new CpuBackend();
    }
}
