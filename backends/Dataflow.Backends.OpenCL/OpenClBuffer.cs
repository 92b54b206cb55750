using Dataflow.Engine.Backends;

namespace Dataflow.Backends.OpenCL;

/// <summary>
/// One cl_mem of 4-byte elements. A zero-element buffer still holds one element, because OpenCL
/// has no empty buffers. Disposing releases the cl_mem; the backend releases any left at its end.
/// </summary>
public sealed class OpenClBuffer : IDeviceBuffer
{
    private readonly OpenClBackend _owner;
    private nint _handle;

    internal OpenClBuffer(OpenClBackend owner, nint handle, long elements)
    {
        _owner = owner;
        _handle = handle;
        Elements = elements;
    }

    public long Elements { get; }
    public IBackend Owner => _owner;

    internal bool IsDisposed => Volatile.Read(ref _handle) == 0;

    internal nint Handle => _handle != 0 ? _handle : throw new ObjectDisposedException(nameof(OpenClBuffer), "opencl: the buffer was disposed");

    public void Dispose()
    {
        var handle = Interlocked.Exchange(ref _handle, 0);
        if (handle != 0) _owner.Release(this, handle);
    }
}
