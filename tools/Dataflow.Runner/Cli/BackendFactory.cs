using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;

namespace Dataflow.Runner.Cli;

/// <summary>Turns <c>--backend NAME</c> into a backend, or says why the environment cannot provide it (exit 2).</summary>
public static class BackendFactory
{
    public static readonly string[] Names = ["cpu", "auto"];

    public static IBackend Create(string name) => name.ToLowerInvariant() switch
    {
        "cpu" or "auto" => new CpuBackend(),
        "opencl" or "vulkan" => throw new BackendUnavailableException($"the {name} backend is not part of this build yet; use --backend cpu"),
        _ => throw new UsageException($"--backend {name}: unknown backend (known: cpu, opencl, vulkan, auto)"),
    };
}
