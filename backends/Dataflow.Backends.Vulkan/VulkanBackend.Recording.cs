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

// Recording and submitting work: push constants, barriers between dispatches, the command buffer's begin and flush, and the descriptor sets each dispatch binds.
public sealed unsafe partial class VulkanBackend
{
    private static int PushConstants(VulkanKernel kernel, in LaunchParams launch, Span<uint> words)
    {
        switch (kernel.Plan.Push)
        {
            case LaunchScalars.Seed:
                words[0] = (uint)launch.Seed;
                words[1] = (uint)(launch.Seed >> 32);
                return 2;
            case LaunchScalars.Pass:
                return 0; // set per dispatch
            case LaunchScalars.Sgd or LaunchScalars.Adam:
                var args = OptimizerArguments.Of((OptimizerStepSpec)kernel.Spec, launch.Scalars);
                for (int i = 0; i < args.Length; i++) words[i] = BitConverter.SingleToUInt32Bits(args[i]);
                return args.Length;
            default:
                return 0;
        }
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
        _vk.CmdPipelineBarrier(_cmd, PipelineStageFlags.ComputeShaderBit, PipelineStageFlags.ComputeShaderBit, 0, 1, &barrier, 0, null, 0, null);
    }

    private void Begin()
    {
        if (_recording) return;
        var begin = new CommandBufferBeginInfo { SType = StructureType.CommandBufferBeginInfo, Flags = CommandBufferUsageFlags.OneTimeSubmitBit };
        VkApi.Check(_vk.BeginCommandBuffer(_cmd, &begin), "vkBeginCommandBuffer");
        _recording = true;
    }

    /// <summary>Submits the recorded batch and waits for it; then its descriptor sets and deferred frees are recycled.</summary>
    private void Flush()
    {
        if (!_recording) return;
        _recording = false;
        try
        {
            // Make the batch's writes visible to the host's reads of the mapped memory.
            var barrier = new MemoryBarrier { SType = StructureType.MemoryBarrier, SrcAccessMask = AccessFlags.ShaderWriteBit, DstAccessMask = AccessFlags.HostReadBit };
            _vk.CmdPipelineBarrier(_cmd, PipelineStageFlags.ComputeShaderBit, PipelineStageFlags.HostBit, 0, 1, &barrier, 0, null, 0, null);
            VkApi.Check(_vk.EndCommandBuffer(_cmd), "vkEndCommandBuffer");
            var cmd = _cmd;
            var submit = new SubmitInfo { SType = StructureType.SubmitInfo, CommandBufferCount = 1, PCommandBuffers = &cmd };
            VkApi.Check(_vk.QueueSubmit(_queue, 1, &submit, _fence), "vkQueueSubmit");
            Interlocked.Increment(ref _submissions);
            var fence = _fence;
            VkApi.Check(_vk.WaitForFences(_device, 1, &fence, true, ulong.MaxValue), "vkWaitForFences");
            VkApi.Check(_vk.ResetFences(_device, 1, &fence), "vkResetFences");
        }
        finally
        {
            _vk.ResetCommandBuffer(_cmd, 0);
            _vk.ResetDescriptorPool(_device, _descriptorPool, 0);
            _dispatchesInBatch = 0;
            _setsInBatch = _descriptorsInBatch = 0;
            _inBatch.Clear();
            foreach (var buffer in _releaseAfterBatch) DestroyBuffer(buffer);
            _releaseAfterBatch.Clear();
        }
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
        VkApi.Check(_vk.AllocateDescriptorSets(_device, &info, &set), "vkAllocateDescriptorSets");
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
        _vk.UpdateDescriptorSets(_device, (uint)buffers.Length, writes, 0, null);
        return set;
    }
}
