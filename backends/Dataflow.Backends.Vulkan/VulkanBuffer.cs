using Dataflow.Engine.Backends;
using Silk.NET.Vulkan;
using Buffer = Silk.NET.Vulkan.Buffer;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// One storage buffer of 4-byte elements in host-visible, coherent memory that stays mapped, so
/// uploads and downloads are copies once the queue is idle. A zero-element buffer still holds one
/// element, because Vulkan has no empty buffers. Disposing hands the buffer back to the backend,
/// which frees it once no queued launch can still use it.
/// </summary>
public sealed unsafe class VulkanBuffer : IDeviceBuffer
{
    private readonly VulkanBackend _owner;
    private int _disposed;

    internal VulkanBuffer(VulkanBackend owner, Buffer handle, DeviceMemory memory, void* mapped, long elements)
    {
        _owner = owner;
        Handle = handle;
        Memory = memory;
        Mapped = mapped;
        Elements = elements;
    }

    public long Elements { get; }
    public IBackend Owner => _owner;

    internal Buffer Handle { get; }
    internal DeviceMemory Memory { get; }
    internal void* Mapped { get; }
    internal bool IsDisposed => Volatile.Read(ref _disposed) != 0;

    /// <summary>Bytes the Vulkan buffer spans (at least one element).</summary>
    internal ulong Bytes => (ulong)Math.Max(1, Elements) * sizeof(float);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0) _owner.Release(this);
    }
}
