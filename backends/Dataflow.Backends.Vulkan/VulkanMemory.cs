using System.Runtime.CompilerServices;
using Dataflow.Engine.Backends;
using Silk.NET.Vulkan;
using Buffer = Silk.NET.Vulkan.Buffer;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Makes and frees a backend's storage buffers: host-visible, coherent memory that stays mapped,
/// zero-filled like every backend's buffers. Which buffers are alive, and when one may be freed,
/// is the backend's and the recorder's business.
/// </summary>
internal sealed unsafe class VulkanMemory(VulkanDevice device, VulkanBackend owner)
{
    private Vk Vk => device.Vk;

    /// <summary>A zero-filled, mapped storage buffer of <paramref name="elements"/> 4-byte elements (at least one).</summary>
    public VulkanBuffer Create(long elements)
    {
        try
        {
            return CreateUnchecked(elements);
        }
        catch (VulkanException e) when (e.Result is Result.ErrorOutOfDeviceMemory or Result.ErrorOutOfHostMemory)
        {
            // Too large for the device: a user's choice (batch, length, model), not a bug.
            throw new DeviceMemoryException($"the vulkan device cannot allocate a buffer of {elements:N0} elements ({MemoryBudget.Format(MemoryBudget.Bytes(elements, "a buffer"))}); use a smaller batch, sequence length or model");
        }
    }

    public void Destroy(VulkanBuffer buffer)
    {
        Vk.UnmapMemory(device.Handle, buffer.Memory);
        Vk.DestroyBuffer(device.Handle, buffer.Handle, null);
        Vk.FreeMemory(device.Handle, buffer.Memory, null);
    }

    private VulkanBuffer CreateUnchecked(long elements)
    {
        ulong bytes = (ulong)Math.Max(1, elements) * sizeof(float);
        var info = new BufferCreateInfo
        {
            SType = StructureType.BufferCreateInfo,
            Size = bytes,
            Usage = BufferUsageFlags.StorageBufferBit | BufferUsageFlags.TransferSrcBit | BufferUsageFlags.TransferDstBit,
            SharingMode = SharingMode.Exclusive,
        };
        var handle = device.Handle;
        uint memoryType = device.Desc.MemoryType;
        Buffer buffer;
        VkApi.Check(Vk.CreateBuffer(handle, &info, null, &buffer), $"vkCreateBuffer of {elements} elements");
        MemoryRequirements req;
        Vk.GetBufferMemoryRequirements(handle, buffer, &req);
        if ((req.MemoryTypeBits & (1u << (int)memoryType)) == 0)
        {
            Vk.DestroyBuffer(handle, buffer, null);
            throw new VulkanException("vkGetBufferMemoryRequirements: the host-visible memory type cannot hold storage buffers", Result.ErrorFeatureNotPresent);
        }
        var alloc = new MemoryAllocateInfo { SType = StructureType.MemoryAllocateInfo, AllocationSize = req.Size, MemoryTypeIndex = memoryType };
        DeviceMemory memory;
        var result = Vk.AllocateMemory(handle, &alloc, null, &memory);
        if (result != Result.Success)
        {
            Vk.DestroyBuffer(handle, buffer, null);
            throw new VulkanException($"vkAllocateMemory of {bytes} bytes", result);
        }
        void* mapped = null;
        result = Vk.BindBufferMemory(handle, buffer, memory, 0);
        if (result == Result.Success) result = Vk.MapMemory(handle, memory, 0, Vk.WholeSize, 0, &mapped);
        if (result != Result.Success)
        {
            Vk.DestroyBuffer(handle, buffer, null);
            Vk.FreeMemory(handle, memory, null);
            throw new VulkanException("vkBindBufferMemory / vkMapMemory", result);
        }
        Unsafe.InitBlockUnaligned(mapped, 0, (uint)bytes);
        return new VulkanBuffer(owner, buffer, memory, mapped, elements);
    }
}
