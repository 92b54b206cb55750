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

/// <summary>
/// Runs kernel specs on a Vulkan device. Each spec becomes GLSL compute shaders generated for its
/// exact shapes, compiled to SPIR-V (libshaderc in process, or glslangValidator where libshaderc
/// cannot be loaded: <see cref="IShaderCompiler"/>; cached by a hash of the source), and made into
/// a compute pipeline once. Shaders stay within the loop budget measured when the device opens
/// (<see cref="LoopLimitProbe"/>). Launches are recorded into one command buffer, a barrier between
/// consecutive dispatches, and submitted together at <see cref="Wait"/>, or earlier when an upload or
/// download touches a buffer that a recorded launch uses (so launches run in enqueue order and
/// copies see every earlier launch), or when the batch's descriptor pool is full. Buffers live in
/// host-visible coherent memory that stays mapped, so copies are memcpy once the queue is idle.
/// </summary>
public sealed unsafe partial class VulkanBackend : IBackend
{
    /// <summary>Descriptor sets per batch; a fuller batch is submitted early.</summary>
    private const uint SetsPerBatch = 1024;

    private const uint DescriptorsPerBatch = SetsPerBatch * 8;

    /// <summary>The largest tensor the 32-bit index math of the shaders addresses.</summary>
    private const long MaxElements = int.MaxValue;

    private readonly Vk _vk;
    private readonly Instance _instance;
    private readonly VkDeviceDesc _desc;
    private readonly KernelPlan _plan;
    private readonly VkDevice _device;
    private readonly Queue _queue;
    private readonly CommandPool _commandPool;
    private readonly CommandBuffer _cmd;
    private readonly Fence _fence;
    private readonly DescriptorPool _descriptorPool;
    private readonly PipelineCache _pipelineCache;
    private readonly ShaderCache _shaders;
    private readonly Dictionary<string, VulkanKernel> _kernels = new();
    private readonly HashSet<VulkanBuffer> _buffers = new();
    private readonly HashSet<VulkanBuffer> _inBatch = new(ReferenceEqualityComparer.Instance);
    private readonly List<VulkanBuffer> _releaseAfterBatch = new();
    private readonly object _gate = new();
    private bool _recording;
    private int _dispatchesInBatch;
    private uint _setsInBatch, _descriptorsInBatch;
    private long _submissions;
    private bool _disposed;
    private readonly long _loopBudget;
    private readonly DeviceInfo _info;

    private VulkanBackend(Vk vk, Instance instance, VkDeviceDesc desc, KernelPlan? plan, IShaderCompiler compiler)
    {
        _shaders = new ShaderCache(compiler);
        _vk = vk;
        _instance = instance;
        _desc = desc;
        _plan = plan ?? KernelPlan.For(desc.Info.Kind);

        float priority = 1f;
        var queueInfo = new DeviceQueueCreateInfo
        {
            SType = StructureType.DeviceQueueCreateInfo,
            QueueFamilyIndex = desc.QueueFamily,
            QueueCount = 1,
            PQueuePriorities = &priority,
        };
        var deviceInfo = new DeviceCreateInfo { SType = StructureType.DeviceCreateInfo, QueueCreateInfoCount = 1, PQueueCreateInfos = &queueInfo };
        VkDevice device;
        var result = vk.CreateDevice(desc.Handle, &deviceInfo, null, &device);
        if (result != Result.Success) throw new BackendUnavailableException($"vulkan: cannot create a device on {desc.Info.Name}: {result}");
        _device = device;
        Queue queue;
        vk.GetDeviceQueue(device, desc.QueueFamily, 0, &queue);
        _queue = queue;

        var poolInfo = new CommandPoolCreateInfo
        {
            SType = StructureType.CommandPoolCreateInfo,
            Flags = CommandPoolCreateFlags.ResetCommandBufferBit,
            QueueFamilyIndex = desc.QueueFamily,
        };
        CommandPool commandPool;
        VkApi.Check(vk.CreateCommandPool(device, &poolInfo, null, &commandPool), "vkCreateCommandPool");
        _commandPool = commandPool;
        var allocInfo = new CommandBufferAllocateInfo
        {
            SType = StructureType.CommandBufferAllocateInfo,
            CommandPool = commandPool,
            Level = CommandBufferLevel.Primary,
            CommandBufferCount = 1,
        };
        CommandBuffer cmd;
        VkApi.Check(vk.AllocateCommandBuffers(device, &allocInfo, &cmd), "vkAllocateCommandBuffers");
        _cmd = cmd;
        var fenceInfo = new FenceCreateInfo { SType = StructureType.FenceCreateInfo };
        Fence fence;
        VkApi.Check(vk.CreateFence(device, &fenceInfo, null, &fence), "vkCreateFence");
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
        VkApi.Check(vk.CreateDescriptorPool(device, &descriptorPoolInfo, null, &descriptorPool), "vkCreateDescriptorPool");
        _descriptorPool = descriptorPool;
        var cacheInfo = new PipelineCacheCreateInfo { SType = StructureType.PipelineCacheCreateInfo };
        PipelineCache pipelineCache;
        VkApi.Check(vk.CreatePipelineCache(device, &cacheInfo, null, &pipelineCache), "vkCreatePipelineCache");
        _pipelineCache = pipelineCache;

        _loopBudget = long.MaxValue;
        uint ran = MeasureLoopLimit();
        _loopBudget = LoopLimitProbe.Budget(ran);
        _info = desc.Info with
        {
            Details = new Dictionary<string, string>(desc.Info.Details)
            {
                ["shader compiler"] = compiler.Name,
                ["loop limit"] = ran >= LoopLimitProbe.Trials ? "none" : $"{ran} iterations per invocation (long loops are split)",
            },
        };
    }

    /// <summary>
    /// Every Vulkan device with a compute queue, GPUs first. Throws <see cref="BackendUnavailableException"/>
    /// when the loader cannot be loaded or finds no driver; an empty list means no device can compute.
    /// </summary>
    public static IReadOnlyList<DeviceInfo> ListDevices()
    {
        var vk = VkApi.Get();
        var instance = VulkanDevices.CreateInstance(vk);
        try
        {
            return VulkanDevices.Find(vk, instance).Select(d => d.Info).ToList();
        }
        finally
        {
            vk.DestroyInstance(instance, null);
        }
    }

    /// <summary>Opens device <paramref name="deviceIndex"/> of <see cref="ListDevices"/> (0: the first GPU if there is one).</summary>
    public static VulkanBackend Create(int deviceIndex = 0) => Create(deviceIndex, plan: null);

    /// <summary>
    /// Opens a device with a chosen <see cref="KernelPlan"/> instead of the one its kind suggests:
    /// so tests on a CPU driver also cover the shaders meant for GPUs.
    /// </summary>
    internal static VulkanBackend Create(int deviceIndex, KernelPlan? plan)
    {
        var vk = VkApi.Get();
        var compiler = IShaderCompiler.Open();
        var instance = VulkanDevices.CreateInstance(vk);
        try
        {
            IReadOnlyList<VkDeviceDesc> devices;
            try
            {
                devices = VulkanDevices.Find(vk, instance);
            }
            catch (VulkanException e)
            {
                throw new BackendUnavailableException($"vulkan: cannot list devices: {e.Message}", e);
            }
            if (devices.Count == 0)
                throw new BackendUnavailableException("vulkan: no Vulkan device with a compute queue and host-visible memory found. " +
                                                      "Install a driver (for a CPU, mesa-vulkan-drivers) and check `vulkaninfo --summary`.");
            if (deviceIndex < 0 || deviceIndex >= devices.Count)
                throw new ArgumentOutOfRangeException(nameof(deviceIndex),
                    $"vulkan: there is no device {deviceIndex}; found {devices.Count}: " +
                    string.Join("; ", devices.Select((d, i) => $"{i}: {d.Info.Name} ({d.Info.Kind})")));
            return new VulkanBackend(vk, instance, devices[deviceIndex], plan, compiler);
        }
        catch
        {
            vk.DestroyInstance(instance, null);
            throw;
        }
    }

    public string Name => "vulkan";

    public DeviceInfo Device => _info;

    /// <summary>Loop iterations one shader invocation may run (<see cref="LoopBudget"/>): long.MaxValue where the driver sets no limit.</summary>
    internal long LoopBudgetIterations => _loopBudget;

    /// <summary>Distinct kernel specs compiled (for logs and tests).</summary>
    public int CompiledKernels
    {
        get { lock (_gate) return _kernels.Count; }
    }

    /// <summary>Distinct GLSL sources compiled to SPIR-V.</summary>
    public int CompiledShaders => _shaders.Count;

    /// <summary>Command buffers submitted so far: batches of launches.</summary>
    public long Submissions => Interlocked.Read(ref _submissions);

    public Support SupportsOp(KernelSpec spec)
    {
        var kind = GeneratedSourceSupport.ByKind(spec, "vulkan");
        if (!kind.IsSupported) return kind;
        long largest = spec switch
        {
            OpKernelSpec op => op.Inputs.Select(i => i.Elements).Append(op.Output.Elements).Max(),
            FusedElementwiseSpec f => f.Inputs.Select(i => i.Elements).Append(f.Elements).Max(),
            OptimizerStepSpec s => s.Elements,
            _ => 0,
        };
        if (largest > MaxElements) return Support.No($"vulkan indexes tensors of up to 2^31 elements; {spec.DisplayName} has {largest}");
        if (largest * sizeof(float) > _desc.MaxStorageBufferRange)
            return Support.No($"{spec.DisplayName}: a tensor of {largest} elements exceeds the device's storage buffer range ({_desc.MaxStorageBufferRange} bytes)");
        return Support.Yes;
    }

    public IDeviceBuffer Allocate(long elements)
    {
        if (elements < 0) throw new ArgumentOutOfRangeException(nameof(elements), "a buffer cannot have a negative size");
        lock (_gate)
        {
            ThrowIfDisposed();
            var buffer = CreateBuffer(elements);
            _buffers.Add(buffer);
            return buffer;
        }
    }

    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<float> source, long offset = 0)
    {
        fixed (float* p = source) Write(buffer, p, offset, source.Length);
    }

    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<int> source, long offset = 0)
    {
        fixed (int* p = source) Write(buffer, p, offset, source.Length);
    }

    public void Download(IDeviceBuffer buffer, Span<float> destination, long offset = 0)
    {
        fixed (float* p = destination) Read(buffer, p, offset, destination.Length);
    }

    public void Download(IDeviceBuffer buffer, Span<int> destination, long offset = 0)
    {
        fixed (int* p = destination) Read(buffer, p, offset, destination.Length);
    }

    public ICompiledKernel Compile(KernelSpec spec)
    {
        var support = SupportsOp(spec);
        if (!support.IsSupported) throw new NotSupportedException($"vulkan: cannot compile {spec.DisplayName}: {support.Reason}");
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_kernels.TryGetValue(spec.Key, out var cached)) return cached;
        }
        // Built outside the gate, so kernels compile in parallel (the engine compiles a graph's kernels
        // on the job system) while launches are recorded: generation is pure, the shader cache compiles
        // each source once (libshaderc's compiler and options are only read; glslangValidator runs as
        // processes of their own), and vkCreateShaderModule, vkCreate*Layout, vkCreateComputePipelines
        // (the pipeline cache is internally synchronised) and the buffer calls of a baked table take no
        // externally synchronised object. Two threads building one spec keep the first kernel.
        var kernel = Build(spec);
        lock (_gate)
        {
            if (!_disposed && _kernels.TryAdd(spec.Key, kernel)) return kernel;
            DestroyKernel(kernel);
            ThrowIfDisposed();
            return _kernels[spec.Key];
        }
    }

    private void DestroyKernel(VulkanKernel kernel)
    {
        foreach (var p in kernel.Pipelines) DestroyPipeline(p);
        if (kernel.Baked is not null) DestroyBuffer(kernel.Baked);
    }

    public void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch)
    {
        var vkKernel = LaunchCheck.Kernel<VulkanKernel>("vulkan", this, kernel, static k => k.Owner);
        var plan = vkKernel.Plan;
        var need = plan.BufferElements;
        int omitted = LaunchCheck.OmittedBuffers("vulkan", vkKernel.Spec, need.Length, plan.OptionalTrailingBuffers, buffers.Length);
        var bound = new VulkanBuffer[buffers.Length + (vkKernel.Baked is null ? 0 : 1)];
        for (int i = 0; i < buffers.Length; i++)
            bound[i] = LaunchCheck.Buffer<VulkanBuffer>("vulkan", this, vkKernel.Spec, buffers, i, need[i], static b => b.IsDisposed);
        if (vkKernel.Baked is not null) bound[^1] = vkKernel.Baked;
        Span<uint> push = stackalloc uint[16];
        int pushWords = PushConstants(vkKernel, launch, push);

        lock (_gate)
        {
            ThrowIfDisposed();
            if (vkKernel.IsEmpty) return;
            var pipeline = vkKernel.Pipelines[omitted];
            if (_setsInBatch + 1 > SetsPerBatch || _descriptorsInBatch + (uint)bound.Length > DescriptorsPerBatch) Flush();
            Begin();
            var set = AllocateSet(pipeline, bound);
            _vk.CmdBindPipeline(_cmd, PipelineBindPoint.Compute, pipeline.Pipeline);
            _vk.CmdBindDescriptorSets(_cmd, PipelineBindPoint.Compute, pipeline.Layout, 0, 1, &set, 0, null);
            if (pushWords > 0)
                fixed (uint* p = push) _vk.CmdPushConstants(_cmd, pipeline.Layout, ShaderStageFlags.ComputeBit, 0, (uint)(pushWords * 4), p);
            for (uint pass = 0; pass < plan.Passes; pass++)
            {
                if (plan.Push == LaunchScalars.Pass) _vk.CmdPushConstants(_cmd, pipeline.Layout, ShaderStageFlags.ComputeBit, 0, sizeof(uint), &pass);
                if (_dispatchesInBatch > 0) Barrier();
                _vk.CmdDispatch(_cmd, vkKernel.Groups[0], vkKernel.Groups[1], vkKernel.Groups[2]);
                _dispatchesInBatch++;
            }
            foreach (var b in bound) _inBatch.Add(b);
        }
    }

    public void Wait()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            Flush();
        }
    }

    /// <summary>
    /// Compiles raw GLSL to SPIR-V (through the shader cache) and makes a shader module of it, then
    /// destroys the module: for tests of compile-error reporting and the cache.
    /// </summary>
    internal void CompileSource(string name, string source)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            var module = CreateModule(_shaders.GetOrCompile(name, source), name);
            _vk.DestroyShaderModule(_device, module, null);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                Flush();
            }
            finally
            {
                _disposed = true;
                _vk.DeviceWaitIdle(_device);
                foreach (var kernel in _kernels.Values) DestroyKernel(kernel);
                _kernels.Clear();
                foreach (var buffer in _buffers) DestroyBuffer(buffer);
                _buffers.Clear();
                foreach (var buffer in _releaseAfterBatch) DestroyBuffer(buffer);
                _releaseAfterBatch.Clear();
                _vk.DestroyPipelineCache(_device, _pipelineCache, null);
                _vk.DestroyDescriptorPool(_device, _descriptorPool, null);
                _vk.DestroyFence(_device, _fence, null);
                _vk.DestroyCommandPool(_device, _commandPool, null);
                _vk.DestroyDevice(_device, null);
                _vk.DestroyInstance(_instance, null);
            }
        }
    }

    /// <summary>A buffer's Dispose: freed now, or after the batch that still uses it has run.</summary>
    internal void Release(VulkanBuffer buffer)
    {
        lock (_gate)
        {
            if (_disposed || !_buffers.Remove(buffer)) return; // the backend's own Dispose freed it
            if (_inBatch.Contains(buffer)) _releaseAfterBatch.Add(buffer);
            else DestroyBuffer(buffer);
        }
    }

    /// <summary>Invocations the device runs at once, roughly: what the scatter plan weighs its two shapes by.</summary>
    private long Parallelism => _desc.Info.Kind == "cpu" ? Math.Max(1, _desc.Info.ComputeUnits) * 8L : 4096;

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

/// <summary>A name for a kernel built from hand-written GLSL (the loop-limit probe) rather than generated from a spec.</summary>
internal sealed record RawKernelSpec(string Name) : KernelSpec
{
    public override string Key => "raw:" + Name;
    public override string DisplayName => Name;
}
