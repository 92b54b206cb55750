using Dataflow.Backends.Vulkan.Sources;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Makes a <see cref="VulkanKernel"/> of a spec: generates its shaders (<see cref="ShaderGeneration"/>),
/// sizes the dispatch (<see cref="DispatchSize"/>), makes a pipeline per shader variant and the
/// device copy of any baked table; and destroys kernels again. Holds no state of its own, so
/// kernels build in parallel outside the backend's lock.
/// </summary>
internal sealed class VulkanKernelFactory(VulkanBackend owner, VkDeviceDesc desc, KernelPlan plan, VulkanPipelines pipelines, VulkanMemory memory, long loopBudget)
{
    /// <summary>Loop iterations one shader invocation may run (<see cref="Engine.Backends.Sources.LoopBudget"/>): long.MaxValue where the driver sets no limit.</summary>
    public long LoopBudget => loopBudget;

    /// <summary>Generates the shaders of a spec, compiles them, makes their pipelines and sizes the dispatch.</summary>
    public VulkanKernel Build(KernelSpec spec) => Build(spec, ShaderGeneration.Generate(spec, desc, plan, loopBudget));

    /// <summary>The same for shaders already written (the loop-limit probe's).</summary>
    public VulkanKernel Build(KernelSpec spec, KernelSource source)
    {
        string name = spec.DisplayName;
        var groups = DispatchSize.Of(name, source, desc, plan, loopBudget);
        var made = new List<VulkanPipeline>();
        VulkanBuffer? baked = null;
        try
        {
            for (int k = 0; k < source.Sources.Length; k++)
            {
                int bindings = source.BufferElements.Length - k + (source.Baked is null ? 0 : 1);
                made.Add(pipelines.Create(name, source.Sources[k], bindings, source.PushBytes));
            }
            if (source.Baked is not null)
            {
                baked = memory.Create(source.Baked.Length);
                source.Baked.CopyTo(BakedSpan(baked, source.Baked.Length));
            }
        }
        catch
        {
            foreach (var p in made) pipelines.Destroy(p);
            throw;
        }
        return new VulkanKernel(owner, spec, source, made.ToArray(), groups, baked);
    }

    public void Destroy(VulkanKernel kernel)
    {
        foreach (var p in kernel.Pipelines) pipelines.Destroy(p);
        if (kernel.Baked is not null) memory.Destroy(kernel.Baked);
    }

    private static unsafe Span<float> BakedSpan(VulkanBuffer buffer, int length) => new(buffer.Mapped, length);
}
