using System.Runtime.CompilerServices;
using Dataflow.Backends.Vulkan.Sources;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;
using Dataflow.Graph.Ops;
using Silk.NET.Vulkan;
using Buffer = Silk.NET.Vulkan.Buffer;
using DeviceInfo = Dataflow.Engine.Backends.DeviceInfo;
using VkDevice = Silk.NET.Vulkan.Device;

namespace Dataflow.Backends.Vulkan;

// Device memory: host-visible buffers, their creation and destruction, and copies between them and the host.
public sealed unsafe partial class VulkanBackend
{
    /// <summary>A zero-filled, mapped storage buffer (like every backend's buffers).</summary>
    private VulkanBuffer CreateBuffer(long elements)
    {
        try
        {
            return CreateBufferUnchecked(elements);
        }
        catch (VulkanException e) when (e.Result is Result.ErrorOutOfDeviceMemory or Result.ErrorOutOfHostMemory)
        {
            // Too large for the device: a user's choice (batch, length, model), not a bug.
            throw new DeviceMemoryException($"the vulkan device cannot allocate a buffer of {elements:N0} elements ({MemoryBudget.Format(MemoryBudget.Bytes(elements, "a buffer"))}); use a smaller batch, sequence length or model");
        }
    }

    private VulkanBuffer CreateBufferUnchecked(long elements)
    {
        ulong bytes = (ulong)Math.Max(1, elements) * sizeof(float);
        var info = new BufferCreateInfo
        {
            SType = StructureType.BufferCreateInfo,
            Size = bytes,
            Usage = BufferUsageFlags.StorageBufferBit | BufferUsageFlags.TransferSrcBit | BufferUsageFlags.TransferDstBit,
            SharingMode = SharingMode.Exclusive,
        };
        Buffer buffer;
        VkApi.Check(_vk.CreateBuffer(_device, &info, null, &buffer), $"vkCreateBuffer of {elements} elements");
        MemoryRequirements req;
        _vk.GetBufferMemoryRequirements(_device, buffer, &req);
        if ((req.MemoryTypeBits & (1u << (int)_desc.MemoryType)) == 0)
        {
            _vk.DestroyBuffer(_device, buffer, null);
            throw new VulkanException("vkGetBufferMemoryRequirements: the host-visible memory type cannot hold storage buffers", Result.ErrorFeatureNotPresent);
        }
        var alloc = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = req.Size, MemoryTypeIndex = _desc.MemoryType };
        DeviceMemory memory;
        var result = _vk.AllocateMemory(_device, &alloc, null, &memory);
        if (result != Result.Success)
        {
            _vk.DestroyBuffer(_device, buffer, null);
            throw new VulkanException($"vkAllocateMemory of {bytes} bytes", result);
        }
        void* mapped = null;
        result = _vk.BindBufferMemory(_device, buffer, memory, 0);
        if (result == Result.Success) result = _vk.MapMemory(_device, memory, 0, Vk.WholeSize, 0, &mapped);
        if (result != Result.Success)
        {
            _vk.DestroyBuffer(_device, buffer, null);
            _vk.FreeMemory(_device, memory, null);
            throw new VulkanException("vkBindBufferMemory / vkMapMemory", result);
        }
        Unsafe.InitBlockUnaligned(mapped, 0, (uint)bytes);
        return new VulkanBuffer(this, buffer, memory, mapped, elements);
    }

    private void DestroyBuffer(VulkanBuffer buffer)
    {
        _vk.UnmapMemory(_device, buffer.Memory);
        _vk.DestroyBuffer(_device, buffer.Handle, null);
        _vk.FreeMemory(_device, buffer.Memory, null);
    }

    private void Write(IDeviceBuffer buffer, void* source, long offset, int length)
    {
        var b = Range(buffer, offset, length, "upload");
        if (length == 0) return;
        lock (_gate)
        {
            ThrowIfDisposed();
            // A recorded launch may still read (or write) this buffer: run the batch first.
            if (_inBatch.Contains(b)) Flush();
            System.Buffer.MemoryCopy(source, (byte*)b.Mapped + offset * 4, (long)length * 4, (long)length * 4);
        }
    }

    private void Read(IDeviceBuffer buffer, void* destination, long offset, int length)
    {
        var b = Range(buffer, offset, length, "download");
        if (length == 0) return;
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_inBatch.Contains(b)) Flush();
            System.Buffer.MemoryCopy((byte*)b.Mapped + offset * 4, destination, (long)length * 4, (long)length * 4);
        }
    }

    private VulkanBuffer Range(IDeviceBuffer buffer, long offset, int length, string what)
    {
        if (buffer is not VulkanBuffer b || !ReferenceEquals(b.Owner, this))
            throw new ArgumentException($"vulkan: {what}: the buffer does not belong to this vulkan backend", nameof(buffer));
        if (b.IsDisposed) throw new ObjectDisposedException(nameof(VulkanBuffer), $"vulkan: {what} into a disposed buffer");
        if (offset < 0 || offset + length > b.Elements)
            throw new ArgumentOutOfRangeException(nameof(offset), $"vulkan: {what} of {length} elements at offset {offset} overruns a buffer of {b.Elements}");
        return b;
    }
}
