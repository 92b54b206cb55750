using Dataflow.Backends.Vulkan.Sources;
using Dataflow.Engine.Backends;
using Silk.NET.Vulkan;

namespace Dataflow.Backends.Vulkan;

/// <summary>One compute pipeline and the layouts it binds with: a shader variant of a kernel.</summary>
internal readonly record struct VulkanPipeline(ShaderModule Module, DescriptorSetLayout SetLayout, PipelineLayout Layout, Pipeline Pipeline, int Bindings);

/// <summary>
/// A spec compiled for one device: its generated GLSL (shown at <c>--verbose 4</c>), a pipeline per
/// shader variant, and the dispatch size worked out at compile time, so a launch only binds buffers
/// and records a dispatch.
/// </summary>
public sealed class VulkanKernel : ICompiledKernel
{
    internal VulkanKernel(VulkanBackend owner, KernelSpec spec, KernelSource source, VulkanPipeline[] pipelines, uint[] groups, VulkanBuffer? baked)
    {
        Owner = owner;
        Spec = spec;
        Plan = source;
        Pipelines = pipelines;
        Groups = groups;
        Baked = baked;
    }

    public KernelSpec Spec { get; }

    /// <summary>The GLSL this kernel was compiled from (its first variant).</summary>
    public string Source => Plan.Sources[0];

    /// <summary>Every pass's GLSL, in dispatch order.</summary>
    public string? GeneratedSource => string.Join("\n", Plan.Sources);

    /// <summary>Invocations per group, per dimension.</summary>
    public IReadOnlyList<int> LocalSize => Plan.Local;

    internal VulkanBackend Owner { get; }
    internal KernelSource Plan { get; }

    /// <summary>One pipeline per entry of <see cref="KernelSource.Sources"/>.</summary>
    internal VulkanPipeline[] Pipelines { get; }

    internal uint[] Groups { get; }

    /// <summary>The device copy of <see cref="KernelSource.Baked"/>, or null.</summary>
    internal VulkanBuffer? Baked { get; }

    internal bool IsEmpty => Groups.Any(g => g == 0);
}
