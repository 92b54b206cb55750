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

// The loop-limit probe run when a device opens (see LoopLimitProbe).
public sealed unsafe partial class VulkanBackend
{
    /// <summary>Runs <see cref="LoopLimitProbe"/> on this device: how many of its loop iterations one invocation completes.</summary>
    private uint MeasureLoopLimit()
    {
        var kernel = Build(new RawKernelSpec("loop_limit_probe"), new KernelSource([LoopLimitProbe.Source], [2], [1], [1], GridStride: false));
        try
        {
            var buffer = CreateBuffer(2);
            try
            {
                ((uint*)buffer.Mapped)[0] = LoopLimitProbe.Trials;
                Enqueue(kernel, [buffer], LaunchParams.None);
                Flush();
                return ((uint*)buffer.Mapped)[1];
            }
            finally
            {
                _inBatch.Clear();
                DestroyBuffer(buffer);
            }
        }
        finally
        {
            foreach (var p in kernel.Pipelines) DestroyPipeline(p);
        }
    }
}
