using Dataflow.Engine.Backends;

namespace Dataflow.Conformance.Harness;

/// <summary>
/// Lends a backend to a <see cref="Engine.Sessions.Session"/> without giving it away: a session
/// disposes its backend, but the suite runs many cases on one backend instance (a GPU context and
/// its kernel cache are too costly to rebuild per case). It also remembers the last kernel the
/// backend refused, so a compile that fails on an unsupported op becomes a SKIP with the reason.
/// </summary>
internal sealed class BorrowedBackend(IBackend inner) : IBackend
{
    public (string Kernel, string Reason)? Refusal { get; private set; }

    public string Name => inner.Name;
    public DeviceInfo Device => inner.Device;

    public Support SupportsOp(KernelSpec spec)
    {
        var support = inner.SupportsOp(spec);
        if (!support.IsSupported) Refusal = (spec.DisplayName, support.Reason ?? "no reason given");
        return support;
    }

    public IDeviceBuffer Allocate(long elements) => inner.Allocate(elements);
    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<float> source, long offset = 0) => inner.Upload(buffer, source, offset);
    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<int> source, long offset = 0) => inner.Upload(buffer, source, offset);
    public void Download(IDeviceBuffer buffer, Span<float> destination, long offset = 0) => inner.Download(buffer, destination, offset);
    public void Download(IDeviceBuffer buffer, Span<int> destination, long offset = 0) => inner.Download(buffer, destination, offset);
    public ICompiledKernel Compile(KernelSpec spec) => inner.Compile(spec);
    public void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch) => inner.Enqueue(kernel, buffers, in launch);
    public void Wait() => inner.Wait();

    /// <summary>The lender keeps the backend; nothing to release here.</summary>
    public void Dispose()
    {
    }
}
