using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;
using Silk.NET.Vulkan;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Records launches into one command buffer, a barrier between consecutive dispatches, and submits
/// them together at <see cref="Flush"/>, waiting for the batch: then its descriptor sets are recycled
/// and buffers freed while the batch used them are destroyed. Knows which buffers the recorded batch
/// uses, so copies know when they must flush first. Not thread-safe: the backend calls it under its lock.
/// </summary>
internal sealed unsafe class VulkanRecorder : IDisposable
{
    /// <summary>Descriptor sets per batch; a fuller batch is submitted early.</summary>
    private const uint SetsPerBatch = 1024;

    private const uint DescriptorsPerBatch = SetsPerBatch * 8;

    private readonly VulkanDevice _device;
    private readonly VulkanMemory _memory;
    private readonly CommandPool _commandPool;
    private readonly CommandBuffer _cmd;
    private readonly Fence _fence;
    private readonly DescriptorPool _descriptorPool;
    private readonly HashSet<VulkanBuffer> _inBatch = new(ReferenceEqualityComparer.Instance);
    private readonly List<VulkanBuffer> _releaseAfterBatch = new();
    private bool _recording;
    private int _dispatchesInBatch;
    private uint _setsInBatch, _descriptorsInBatch;
    private long _submissions;

    public VulkanRecorder(VulkanDevice device, VulkanMemory memory)
    {
        _device = device;
        _memory = memory;
        var vk = device.Vk;
        var poolInfo = new CommandPoolCreateInfo
        {
            SType = StructureType.CommandPoolCreateInfo,
            Flags = CommandPoolCreateFlags.ResetCommandBufferBit,
            QueueFamilyIndex = device.Desc.QueueFamily,
        };
        CommandPool commandPool;
        VkApi.Check(vk.CreateCommandPool(device.Handle, &poolInfo, null, &commandPool), "vkCreateCommandPool");
        _commandPool = commandPool;
        var allocInfo = new CommandBufferAllocateInfo
        {
            SType = StructureType.CommandBufferAllocateInfo,
            CommandPool = commandPool,
            Level = CommandBufferLevel.Primary,
            CommandBufferCount = 1,
        };
        CommandBuffer cmd;
        VkApi.Check(vk.AllocateCommandBuffers(device.Handle, &allocInfo, &cmd), "vkAllocateCommandBuffers");
        _cmd = cmd;
        var fenceInfo = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
        Fence fence;
        VkApi.Check(vk.CreateFence(device.Handle, &fenceInfo, null, &fence), "vkCreateFence");
        _fence = fence;
        var size = new DescriptorPoolSize { Type = DescriptorType.StorageBuffer, DescriptorCount = DescriptorsPerBatch };
        var descriptorPoolInfo = new DescriptorPoolCreateInfo
        {
            SType = StructureType.DescriptorPoolCreateInfo,
            MaxSets = SetsPerBatch,
            PoolSizeCount = 1,
            PPoolSizes = &size,
        };
        DescriptorPool descriptorPool;
        VkApi.Check(vk.CreateDescriptorPool(device.Handle, &descriptorPoolInfo, null, &descriptorPool), "vkCreateDescriptorPool");
        _descriptorPool = descriptorPool;
    }

    /// <summary>Command buffers submitted so far: batches of launches.</summary>
    public long Submissions => Interlocked.Read(ref _submissions);

    private Vk Vk => _device.Vk;

    /// <summary>Whether a launch recorded since the last flush binds <paramref name="buffer"/>.</summary>
    public bool Uses(VulkanBuffer buffer) => _inBatch.Contains(buffer);

    /// <summary>Frees a disposed buffer now, or after the recorded batch that still binds it has run.</summary>
    public void Release(VulkanBuffer buffer)
    {
        if (_inBatch.Contains(buffer)) _releaseAfterBatch.Add(buffer);
        else _memory.Destroy(buffer);
    }

    /// <summary>Records every pass of one launch of <paramref name="pipeline"/> with <paramref name="bound"/> buffers and <paramref name="push"/> constants.</summary>
    public void Record(VulkanKernel kernel, in VulkanPipeline pipeline, VulkanBuffer[] bound, ReadOnlySpan<uint> push)
    {
        if (_setsInBatch + 1 > SetsPerBatch || _descriptorsInBatch + (uint)bound.Length > DescriptorsPerBatch) Flush();
        Begin();
        var set = AllocateSet(pipeline, bound);
        Vk.CmdBindPipeline(_cmd, PipelineBindPoint.Compute, pipeline.Pipeline);
        Vk.CmdBindDescriptorSets(_cmd, PipelineBindPoint.Compute, pipeline.Layout, 0, 1, &set, 0, null);
        if (push.Length > 0)
            fixed (uint* p = push) Vk.CmdPushConstants(_cmd, pipeline.Layout, ShaderStageFlags.ComputeBit, 0, (uint)(push.Length * 4), p);
        var plan = kernel.Plan;
        for (uint pass = 0; pass < plan.Passes; pass++)
        {
            if (plan.Push == LaunchScalars.Pass) Vk.CmdPushConstants(_cmd, pipeline.Layout, ShaderStageFlags.ComputeBit, 0, sizeof(uint), &pass);
            if (_dispatchesInBatch > 0) Barrier();
            Vk.CmdDispatch(_cmd, kernel.Groups[0], kernel.Groups[1], kernel.Groups[2]);
            _dispatchesInBatch++;
        }
        foreach (var b in bound) _inBatch.Add(b);
    }

    /// <summary>Submits the recorded batch and waits for it; then its descriptor sets and deferred frees are recycled.</summary>
    public void Flush()
    {
        if (!_recording) return;
        _recording = false;
        try
        {
            // Make the batch's writes visible to the host's reads of the mapped memory.
            var barrier = new MemoryBarrier { SType = StructureType.MemoryBarrier, SrcAccessMask = AccessFlags.ShaderWriteBit, DstAccessMask = AccessFlags.HostReadBit };
            Vk.CmdPipelineBarrier(_cmd, PipelineStageFlags.ComputeShaderBit, PipelineStageFlags.HostBit, 0, 1, &barrier, 0, null, 0, null);
            VkApi.Check(Vk.EndCommandBuffer(_cmd), "vkEndCommandBuffer");
            var cmd = _cmd;
            var submit = new SubmitInfo { SType = StructureType.SubmitInfo, CommandBufferCount = 1, PCommandBuffers = &cmd };
            VkApi.Check(Vk.QueueSubmit(_device.Queue, 1, &submit, _fence), "vkQueueSubmit");
            Interlocked.Increment(ref _submissions);
            var fence = _fence;
            VkApi.Check(Vk.WaitForFences(_device.Handle, 1, &fence, true, ulong.MaxValue), "vkWaitForFences");
            VkApi.Check(Vk.ResetFences(_device.Handle, 1, &fence), "vkResetFences");
        }
        finally
        {
            Vk.ResetCommandBuffer(_cmd, 0);
            Vk.ResetDescriptorPool(_device.Handle, _descriptorPool, 0);
            _dispatchesInBatch = 0;
            _setsInBatch = _descriptorsInBatch = 0;
            _inBatch.Clear();
            foreach (var buffer in _releaseAfterBatch) _memory.Destroy(buffer);
            _releaseAfterBatch.Clear();
        }
    }

    /// <summary>Frees what waits for a batch and the recording objects; the device must be idle.</summary>
    public void Dispose()
    {
        foreach (var buffer in _releaseAfterBatch) _memory.Destroy(buffer);
        _releaseAfterBatch.Clear();
        Vk.DestroyDescriptorPool(_device.Handle, _descriptorPool, null);
        Vk.DestroyFence(_device.Handle, _fence, null);
        Vk.DestroyCommandPool(_device.Handle, _commandPool, null);
    }

    /// <summary>Every dispatch sees every earlier one's writes, and earlier reads finish before later writes.</summary>
    private void Barrier()
    {
        var barrier = new MemoryBarrier
        {
            SType = StructureType.MemoryBarrier,
            SrcAccessMask = AccessFlags.ShaderWriteBit | AccessFlags.ShaderReadBit,
            DstAccessMask = AccessFlags.ShaderReadBit | AccessFlags.ShaderWriteBit,
        };
        Vk.CmdPipelineBarrier(_cmd, PipelineStageFlags.ComputeShaderBit, PipelineStageFlags.ComputeShaderBit, 0, 1, &barrier, 0, null, 0, null);
    }

    private void Begin()
    {
        if (_recording) return;
        var begin = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
        VkApi.Check(Vk.BeginCommandBuffer(_cmd, &begin), "vkBeginCommandBuffer");
        _recording = true;
    }

    private DescriptorSet AllocateSet(in VulkanPipeline pipeline, VulkanBuffer[] buffers)
    {
        var layout = pipeline.SetLayout;
        var info = new DescriptorSetAllocateInfo
        {
            SType = StructureType.DescriptorSetAllocateInfo,
            DescriptorPool = _descriptorPool,
            DescriptorSetCount = 1,
            PSetLayouts = &layout,
        };
        DescriptorSet set;
        VkApi.Check(Vk.AllocateDescriptorSets(_device.Handle, &info, &set), "vkAllocateDescriptorSets");
        _setsInBatch++;
        _descriptorsInBatch += (uint)buffers.Length;
        var infos = stackalloc DescriptorBufferInfo[buffers.Length];
        var writes = stackalloc WriteDescriptorSet[buffers.Length];
        for (int i = 0; i < buffers.Length; i++)
        {
            infos[i] = new DescriptorBufferInfo { Buffer = buffers[i].Handle, Offset = 0, Range = Vk.WholeSize };
            writes[i] = new WriteDescriptorSet
            {
                SType = StructureType.WriteDescriptorSet,
                DstSet = set,
                DstBinding = (uint)i,
                DescriptorCount = 1,
                DescriptorType = DescriptorType.StorageBuffer,
                PBufferInfo = &infos[i],
            };
        }
        Vk.UpdateDescriptorSets(_device.Handle, (uint)buffers.Length, writes, 0, null);
        return set;
    }
}
