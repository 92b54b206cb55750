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

// Turning kernel specs into pipelines: generating GLSL, compiling it through the shader cache, making shader modules and pipelines, and sizing work-groups and dispatches.
public sealed unsafe partial class VulkanBackend
{
    /// <summary>Generates the shaders of a spec, compiles them, makes their pipelines and sizes the dispatch.</summary>
    private VulkanKernel Build(KernelSpec spec) => Build(spec, Generate(spec));

    private VulkanKernel Build(KernelSpec spec, KernelSource source)
    {
        string name = spec.DisplayName;
        long invocations = source.Local.Aggregate(1L, (a, b) => a * b);
        if (invocations > _desc.MaxGroupInvocations || source.Local.Where((l, d) => l > _desc.MaxGroupSize[d]).Any())
            throw new NotSupportedException($"vulkan: {name}: a work-group of {string.Join("x", source.Local)} exceeds the device's limits");
        var groups = new uint[3];
        for (int d = 0; d < 3; d++)
        {
            long global = d < source.Global.Length ? source.Global[d] : 1;
            long local = d < source.Local.Length ? source.Local[d] : 1;
            long count = (global + local - 1) / local;
            if (source.GridStride && d == 0)
            {
                long cap = _plan.GroupsPerCore > 0 ? (long)_plan.GroupsPerCore * Math.Max(1, _desc.Info.ComputeUnits) : long.MaxValue;
                long wanted = Math.Min(count, cap);
                if (_loopBudget != long.MaxValue && count > 0)
                {
                    // Enough wanted that no invocation runs more loop iterations than the driver allows.
                    if (source.ItemIterations + 1 > _loopBudget)
                        throw new InvalidOperationException($"vulkan: {name}: one item takes {source.ItemIterations} loop iterations, over the device's budget of {_loopBudget}");
                    long itemsPerInvocation = _loopBudget / (source.ItemIterations + 1);
                    wanted = Math.Max(wanted, (global + local * itemsPerInvocation - 1) / (local * itemsPerInvocation));
                }
                if (wanted > _desc.MaxGroupCount[0] && _loopBudget != long.MaxValue)
                    throw new NotSupportedException($"vulkan: {name} needs {wanted} work-wanted to stay within the device's loop limit; it allows {_desc.MaxGroupCount[0]}");
                count = Math.Min(wanted, _desc.MaxGroupCount[0]);
            }
            else if (count > _desc.MaxGroupCount[d])
                throw new NotSupportedException($"vulkan: {name} needs {count} work-groups along axis {d}; the device allows {_desc.MaxGroupCount[d]}");
            groups[d] = (uint)count;
        }
        if (source.PushBytes > _desc.MaxPushConstants)
            throw new NotSupportedException($"vulkan: {name} needs {source.PushBytes} bytes of push constants; the device allows {_desc.MaxPushConstants}");

        var pipelines = new List<VulkanPipeline>();
        VulkanBuffer? baked = null;
        try
        {
            for (int k = 0; k < source.Sources.Length; k++)
            {
                int bindings = source.BufferElements.Length - k + (source.Baked is null ? 0 : 1);
                pipelines.Add(CreatePipeline(name, source.Sources[k], bindings, source.PushBytes));
            }
            if (source.Baked is not null)
            {
                baked = CreateBuffer(source.Baked.Length);
                source.Baked.CopyTo(new Span<float>(baked.Mapped, source.Baked.Length));
            }
        }
        catch
        {
            foreach (var p in pipelines) DestroyPipeline(p);
            throw;
        }
        return new VulkanKernel(this, spec, source, pipelines.ToArray(), groups, baked);
    }

    private KernelSource Generate(KernelSpec spec)
    {
        int group = Group();
        return spec switch
        {
            FusedElementwiseSpec fused => Emitted(FusedElementwiseEmitter.Generate(fused, Dialect)),
            OptimizerStepSpec step => Emitted(OptimizerEmitter.Generate(step, Dialect)),
            OpKernelSpec op => op.Op switch
            {
                OpCode.Constant => Emitted(LeafEmitter.Constant(op, Dialect)),
                OpCode.Iota => Emitted(LeafEmitter.Iota(op, Dialect)),
                OpCode.CausalMask => Emitted(LeafEmitter.CausalMask(op, Dialect)),
                OpCode.DropoutMask => Emitted(LeafEmitter.DropoutMask(op, Dialect)),
                OpCode.ReduceSum or OpCode.ReduceMax => Emitted(ReduceEmitter.Generate(op, Dialect, group, _plan.ReduceSerialLimit, _loopBudget, MaxGroup())),
                OpCode.Reshape or OpCode.Permute or OpCode.Expand => Emitted(MovementEmitter.Generate(op, Dialect)),
                OpCode.MatMul => Emitted(_plan.BlockedMatMul is { } blocks
                    ? MatMulEmitter.Blocked(op, Dialect, blocks, _loopBudget)
                    : MatMulEmitter.Tiled(op, Dialect, Tile(), _loopBudget)),
                OpCode.Gather => Emitted(IndexEmitter.Gather(op, Dialect)),
                OpCode.ScatterAdd => Emitted(IndexEmitter.ScatterAdd(op, Dialect, Parallelism, _loopBudget)),
                OpCode.OneHot => Emitted(IndexEmitter.OneHot(op, Dialect)),
                OpCode.StoreRows => Emitted(IndexEmitter.StoreRows(op, Dialect)),
                OpCode.CachedAttention => Emitted(AttentionEmitter.CachedAttention(op, Dialect)),
                _ => throw new NotSupportedException($"vulkan: no kernel for {op.DisplayName}"),
            },
            _ => throw new NotSupportedException($"vulkan: unknown kernel spec {spec.GetType().Name}"),
        };

        KernelSource Emitted(EmittedKernel kernel) => KernelSource.From(kernel, spec.DisplayName, group);
    }

    private static CDialect Dialect => CDialect.Glsl;

    /// <summary>The plan's group size within the device's limits, a power of two (for the reduction trees).</summary>
    private int Group() => Math.Min(_plan.Group, MaxGroup()) is var g ? 1 << (31 - int.LeadingZeroCount(Math.Max(1, g))) : 1;

    /// <summary>The largest power-of-two group the device runs along the first axis.</summary>
    private int MaxGroup()
    {
        long group = Math.Min(Math.Min(_desc.MaxGroupInvocations, _desc.MaxGroupSize[0]), 1 << 30);
        return 1 << (31 - int.LeadingZeroCount((int)Math.Max(1, group)));
    }

    /// <summary>The largest square tile whose T² invocations fit in a group (16 on anything modern).</summary>
    private int Tile()
    {
        int tile = 16;
        while (tile > 1 && ((long)tile * tile > _desc.MaxGroupInvocations || tile > _desc.MaxGroupSize[1] || tile > _desc.MaxGroupSize[0])) tile /= 2;
        return tile;
    }

    private VulkanPipeline CreatePipeline(string name, string source, int bindings, uint pushBytes)
    {
        var module = CreateModule(_shaders.GetOrCompile(name, source), name);
        DescriptorSetLayout setLayout = default;
        PipelineLayout layout = default;
        try
        {
            var slots = stackalloc DescriptorSetLayoutBinding[Math.Max(1, bindings)];
            for (int i = 0; i < bindings; i++)
                slots[i] = new DescriptorSetLayoutBinding
                {
                    Binding = (uint)i,
                    DescriptorType = DescriptorType.StorageBuffer,
                    DescriptorCount = 1,
                    StageFlags = ShaderStageFlags.ComputeBit,
                };
            var setInfo = new DescriptorSetLayoutCreateInfo { SType = StructureType.DescriptorSetLayoutCreateInfo, BindingCount = (uint)bindings, PBindings = slots };
            VkApi.Check(_vk.CreateDescriptorSetLayout(_device, &setInfo, null, &setLayout), $"vkCreateDescriptorSetLayout({name})");
            var range = new PushConstantRange { StageFlags = ShaderStageFlags.ComputeBit, Offset = 0, Size = pushBytes };
            var layoutInfo = new PipelineLayoutCreateInfo
            {
                SType = StructureType.PipelineLayoutCreateInfo,
                SetLayoutCount = 1,
                PSetLayouts = &setLayout,
                PushConstantRangeCount = pushBytes > 0 ? 1u : 0u,
                PPushConstantRanges = &range,
            };
            VkApi.Check(_vk.CreatePipelineLayout(_device, &layoutInfo, null, &layout), $"vkCreatePipelineLayout({name})");
            var entry = stackalloc byte[] { (byte)'m', (byte)'a', (byte)'i', (byte)'n', 0 };
            var pipelineInfo = new ComputePipelineCreateInfo
            {
                SType = StructureType.ComputePipelineCreateInfo,
                Stage = new PipelineShaderStageCreateInfo
                {
                    SType = StructureType.PipelineShaderStageCreateInfo,
                    Stage = ShaderStageFlags.ComputeBit,
                    Module = module,
                    PName = entry,
                },
                Layout = layout,
            };
            Pipeline pipeline;
            var result = _vk.CreateComputePipelines(_device, _pipelineCache, 1, &pipelineInfo, null, &pipeline);
            if (result != Result.Success) throw new KernelCompileException(Name, name, $"vkCreateComputePipelines: {result}");
            return new VulkanPipeline(module, setLayout, layout, pipeline, bindings);
        }
        catch
        {
            if (layout.Handle != 0) _vk.DestroyPipelineLayout(_device, layout, null);
            if (setLayout.Handle != 0) _vk.DestroyDescriptorSetLayout(_device, setLayout, null);
            _vk.DestroyShaderModule(_device, module, null);
            throw;
        }
    }

    private ShaderModule CreateModule(uint[] spirv, string name)
    {
        fixed (uint* code = spirv)
        {
            var info = new ShaderModuleCreateInfo { SType = StructureType.ShaderModuleCreateInfo, CodeSize = (nuint)(spirv.Length * 4), PCode = code };
            ShaderModule module;
            var result = _vk.CreateShaderModule(_device, &info, null, &module);
            if (result != Result.Success) throw new KernelCompileException(Name, name, $"vkCreateShaderModule: {result}");
            return module;
        }
    }

    private void DestroyPipeline(in VulkanPipeline p)
    {
        _vk.DestroyPipeline(_device, p.Pipeline, null);
        _vk.DestroyPipelineLayout(_device, p.Layout, null);
        _vk.DestroyDescriptorSetLayout(_device, p.SetLayout, null);
        _vk.DestroyShaderModule(_device, p.Module, null);
    }
}
