using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Backends;

/// <summary>What a device is, as <c>dataflow devices</c> shows it.</summary>
public sealed record DeviceInfo(string Backend, string Name, string Kind, long MemoryBytes, int ComputeUnits, int MaxWorkGroupSize)
{
    public IReadOnlyDictionary<string, string> Details { get; init; } = new Dictionary<string, string>();
}

/// <summary>Memory on a device, owned by the backend that allocated it. Sizes are in elements (4 bytes each).</summary>
public interface IDeviceBuffer : IDisposable
{
    long Elements { get; }
    IBackend Owner { get; }
}

/// <summary>A kernel compiled for one device; launched with <see cref="IBackend.Enqueue"/>.</summary>
public interface ICompiledKernel
{
    KernelSpec Spec { get; }

    /// <summary>The source the backend generated and built for this kernel (OpenCL C, GLSL; shown at <c>--verbose 4</c>); null where it generates none (the CPU runs C#).</summary>
    string? GeneratedSource => null;
}

/// <summary>Whether a backend runs a kernel spec, and if not, why (shown in placement logs and conformance skips).</summary>
public readonly record struct Support(bool IsSupported, string? Reason)
{
    public static readonly Support Yes = new(true, null);
    public static Support No(string reason) => new(false, reason);
}

/// <summary>
/// The whole of what the engine asks of a device: describe it, allocate and free buffers, copy in
/// and out, compile a kernel spec (cached), enqueue, wait. Launches run in enqueue order.
/// </summary>
public interface IBackend : IDisposable
{
    string Name { get; }
    DeviceInfo Device { get; }
    Support SupportsOp(KernelSpec spec);
    IDeviceBuffer Allocate(long elements);
    void Upload(IDeviceBuffer buffer, ReadOnlySpan<float> source, long offset = 0);
    void Upload(IDeviceBuffer buffer, ReadOnlySpan<int> source, long offset = 0);
    void Download(IDeviceBuffer buffer, Span<float> destination, long offset = 0);
    void Download(IDeviceBuffer buffer, Span<int> destination, long offset = 0);
    ICompiledKernel Compile(KernelSpec spec);

    /// <summary>Queues a launch; <paramref name="buffers"/> are the spec's inputs then outputs.</summary>
    void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch);

    /// <summary>Blocks until every queued launch has finished.</summary>
    void Wait();
}

/// <summary>The environment lacks what a backend needs (no driver, no device): exit code 2.</summary>
public sealed class BackendUnavailableException(string message, Exception? inner = null) : Exception(message, inner);

/// <summary>A kernel failed to compile on a device; carries the compiler's log.</summary>
public sealed class KernelCompileException(string backend, string kernel, string log)
    : Exception($"{backend}: kernel {kernel} failed to compile:\n{log}")
{
    public string Backend { get; } = backend;
    public string Kernel { get; } = kernel;
    public string Log { get; } = log;
}
