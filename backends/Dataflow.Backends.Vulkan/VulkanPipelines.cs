using Dataflow.Engine.Backends;
using Silk.NET.Vulkan;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Makes compute pipelines from GLSL: compiles it to SPIR-V through the shader cache, makes the
/// shader module, the descriptor-set and pipeline layouts and the pipeline (through one pipeline
/// cache), and destroys them again. Safe to call from several threads at once: the shader cache
/// compiles each source once, and none of these calls takes an externally synchronised object
/// (the pipeline cache is internally synchronised).
/// </summary>
internal sealed unsafe class VulkanPipelines : IDisposable
{
    private readonly VulkanDevice _device;
    private readonly ShaderCache _shaders;
    private readonly PipelineCache _cache;

    public VulkanPipelines(VulkanDevice device, IShaderCompiler compiler)
    {
        _device = device;
        _shaders = new ShaderCache(compiler);
        var cacheInfo = new PipelineCacheCreateInfo { SType = StructureType.PipelineCacheCreateInfo };
        PipelineCache cache;
        VkApi.Check(device.Vk.CreatePipelineCache(device.Handle, &cacheInfo, null, &cache), "vkCreatePipelineCache");
        _cache = cache;
    }

    /// <summary>Distinct GLSL sources compiled to SPIR-V.</summary>
    public int CompiledShaders => _shaders.Count;

    private Vk Vk => _device.Vk;

    /// <summary>A pipeline for <paramref name="source"/> binding <paramref name="bindings"/> storage buffers and <paramref name="pushBytes"/> of push constants.</summary>
    public VulkanPipeline Create(string name, string source, int bindings, uint pushBytes)
    {
        var device = _device.Handle;
        var module = CreateModule(name, source);
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
            VkApi.Check(Vk.CreateDescriptorSetLayout(device, &setInfo, null, &setLayout), $"vkCreateDescriptorSetLayout({name})");
            var range = new PushConstantRange { StageFlags = ShaderStageFlags.ComputeBit, Offset = 0, Size = pushBytes };
            var layoutInfo = new PipelineLayoutCreateInfo
            {
                SType = StructureType.PipelineLayoutCreateInfo,
                SetLayoutCount = 1,
                PSetLayouts = &setLayout,
                PushConstantRangeCount = pushBytes > 0 ? 1u : 0u,
                PPushConstantRanges = &range,
            };
            VkApi.Check(Vk.CreatePipelineLayout(device, &layoutInfo, null, &layout), $"vkCreatePipelineLayout({name})");
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
            var result = Vk.CreateComputePipelines(device, _cache, 1, &pipelineInfo, null, &pipeline);
            if (result != Result.Success) throw new KernelCompileException("vulkan", name, $"vkCreateComputePipelines: {result}");
            return new VulkanPipeline(module, setLayout, layout, pipeline, bindings);
        }
        catch
        {
            if (layout.Handle != 0) Vk.DestroyPipelineLayout(device, layout, null);
            if (setLayout.Handle != 0) Vk.DestroyDescriptorSetLayout(device, setLayout, null);
            Vk.DestroyShaderModule(device, module, null);
            throw;
        }
    }

    public void Destroy(in VulkanPipeline p)
    {
        var device = _device.Handle;
        Vk.DestroyPipeline(device, p.Pipeline, null);
        Vk.DestroyPipelineLayout(device, p.Layout, null);
        Vk.DestroyDescriptorSetLayout(device, p.SetLayout, null);
        Vk.DestroyShaderModule(device, p.Module, null);
    }

    /// <summary>Compiles <paramref name="source"/> and makes a shader module of it, then destroys the module: compile errors surface as from a real kernel.</summary>
    public void CheckCompiles(string name, string source) => Vk.DestroyShaderModule(_device.Handle, CreateModule(name, source), null);

    public void Dispose() => Vk.DestroyPipelineCache(_device.Handle, _cache, null);

    private ShaderModule CreateModule(string name, string source)
    {
        var spirv = _shaders.GetOrCompile(name, source);
        fixed (uint* code = spirv)
        {
            var info = new ShaderModuleCreateInfo { SType = StructureType.ShaderModuleCreateInfo, CodeSize = (nuint)(spirv.Length * 4), PCode = code };
            ShaderModule module;
            var result = Vk.CreateShaderModule(_device.Handle, &info, null, &module);
            if (result != Result.Success) throw new KernelCompileException("vulkan", name, $"vkCreateShaderModule: {result}");
            return module;
        }
    }
}
