using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Backends.Vulkan;
using Dataflow.Engine.Backends;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// Every backend the shared contract tests run on, opened on first use and kept for the test
/// class, plus a CPU reference. There is no skip when a device is missing: tools/setup installs
/// PoCL and lavapipe, so a missing device is a broken environment, and its cases fail with the
/// backend's reason. A name may carry a kernel plan (<c>opencl:gpu</c>), so a CPU driver also
/// checks the shapes of kernel meant for GPUs.
/// </summary>
public sealed class DeviceBackends : IDisposable
{
    /// <summary>The generated-source backends, whose kernels are checked against the CPU's.</summary>
    public static readonly string[] Devices = ["opencl", "vulkan"];

    /// <summary>
    /// Each device backend under each of its kernel plans: on a CPU driver (PoCL, lavapipe) the GPU
    /// plan's local-memory tiles and trees are checked too, not only the register-blocked kernels.
    /// </summary>
    public static readonly string[] Plans = ["opencl:gpu", "opencl:cpu", "vulkan:gpu", "vulkan:cpu"];

    /// <summary>Every backend under every plan, the CPU included, for contracts with a reference of their own (exact sums).</summary>
    public static readonly string[] Subjects = ["cpu", .. Plans];

    /// <summary>Every backend, for contracts that need no reference (buffers).</summary>
    public static readonly string[] All = ["cpu", .. Devices];

    private readonly Dictionary<string, IBackend> _open = new();
    private readonly object _gate = new();

    public CpuBackend Cpu { get; } = new();

    public IBackend this[string name]
    {
        get
        {
            if (name == "cpu") return Cpu;
            lock (_gate)
            {
                if (!_open.TryGetValue(name, out var backend)) _open[name] = backend = Open(name);
                return backend;
            }
        }
    }

    private static IBackend Open(string name) => name switch
    {
        "opencl" => OpenClBackend.Create(),
        "opencl:gpu" => OpenClBackend.Create(0, Dataflow.Backends.OpenCL.KernelPlan.Gpu),
        "opencl:cpu" => OpenClBackend.Create(0, Dataflow.Backends.OpenCL.KernelPlan.Cpu),
        "vulkan" => VulkanBackend.Create(),
        "vulkan:gpu" => VulkanBackend.Create(0, Dataflow.Backends.Vulkan.KernelPlan.Gpu),
        "vulkan:cpu" => VulkanBackend.Create(0, Dataflow.Backends.Vulkan.KernelPlan.Cpu),
        _ => throw new ArgumentException($"no backend '{name}' for the contract tests", nameof(name)),
    };

    /// <summary>Each case once per backend in <paramref name="backends"/>, the backend's name first.</summary>
    public static TheoryData<string> Each(string[] backends)
    {
        var data = new TheoryData<string>();
        foreach (var b in backends) data.Add(b);
        return data;
    }

    /// <summary><paramref name="cases"/> crossed with <paramref name="backends"/>, the backend's name first.</summary>
    public static IEnumerable<object[]> Cross(string[] backends, params object[][] cases) =>
        from b in backends from c in cases select (object[])[b, .. c];

    /// <summary>Runs <paramref name="spec"/> on the CPU and on backend <paramref name="name"/> with the same inputs; outputs as raw floats.</summary>
    public (float[][] Cpu, float[][] Device) RunBoth(string name, KernelSpec spec, object[] inputs, long[] outputElements, LaunchParams? launch = null) =>
        (KernelRunner.Run(Cpu, spec, inputs, outputElements, launch), KernelRunner.Run(this[name], spec, inputs, outputElements, launch));

    public void Dispose()
    {
        foreach (var backend in _open.Values) backend.Dispose();
        Cpu.Dispose();
    }
}
