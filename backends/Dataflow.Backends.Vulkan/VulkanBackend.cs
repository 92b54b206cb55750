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
public sealed unsafe class VulkanBackend : IBackend
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

    /// <summary>What compiles the generated GLSL: libshaderc, or glslangValidator where libshaderc cannot be loaded.</summary>
    public string ShaderCompiler => _shaders.Compiler.Name;

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
            var kernel = Build(spec);
            _kernels[spec.Key] = kernel;
            return kernel;
        }
    }

    public void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch)
    {
        if (kernel is not VulkanKernel vkKernel || !ReferenceEquals(vkKernel.Owner, this))
            throw new ArgumentException($"vulkan: kernel {kernel.Spec.DisplayName} was not compiled by this vulkan backend", nameof(kernel));
        var plan = vkKernel.Plan;
        var need = plan.BufferElements;
        string name = vkKernel.Spec.DisplayName;
        int omitted = need.Length - buffers.Length;
        if (omitted < 0 || omitted > plan.OptionalTrailingBuffers)
            throw new ArgumentException($"vulkan: kernel {name} takes {need.Length} buffers, got {buffers.Length}", nameof(buffers));
        var bound = new VulkanBuffer[buffers.Length + (vkKernel.Baked is null ? 0 : 1)];
        for (int i = 0; i < buffers.Length; i++)
        {
            if (buffers[i] is not VulkanBuffer b || !ReferenceEquals(b.Owner, this))
                throw new ArgumentException($"vulkan: kernel {name}: buffer {i} does not belong to this vulkan backend", nameof(buffers));
            if (b.IsDisposed) throw new ObjectDisposedException(nameof(VulkanBuffer), $"vulkan: kernel {name}: buffer {i} was disposed");
            if (b.Elements < need[i])
                throw new ArgumentException($"vulkan: kernel {name}: buffer {i} holds {b.Elements} elements, needs {need[i]}", nameof(buffers));
            bound[i] = b;
        }
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
                if (plan.Push == PushArgs.Pass) _vk.CmdPushConstants(_cmd, pipeline.Layout, ShaderStageFlags.ComputeBit, 0, sizeof(uint), &pass);
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

    /// <summary>
    /// Compiles hand-written shaders under <paramref name="spec"/>'s name, uncached: for tests that
    /// check a driver's behaviour or the launch machinery with shaders no spec generates.
    /// </summary>
    internal VulkanKernel CompileRaw(KernelSpec spec, KernelSource source)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            return Build(spec, source);
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
                foreach (var kernel in _kernels.Values)
                {
                    foreach (var p in kernel.Pipelines) DestroyPipeline(p);
                    if (kernel.Baked is not null) DestroyBuffer(kernel.Baked);
                }
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
            FusedElementwiseSpec fused => FusedElementwiseSource.Generate(fused, group),
            OptimizerStepSpec step => OptimizerSource.Generate(step, group),
            OpKernelSpec op => op.Op switch
            {
                OpCode.Constant => LeafSource.Constant(op, group),
                OpCode.Iota => LeafSource.Iota(op, group),
                OpCode.CausalMask => LeafSource.CausalMask(op, group),
                OpCode.DropoutMask => LeafSource.DropoutMask(op, group),
                OpCode.ReduceSum or OpCode.ReduceMax => ReduceSource.Generate(op, group, _plan.ReduceSerialLimit, _loopBudget, MaxGroup()),
                OpCode.Reshape or OpCode.Permute or OpCode.Expand => MovementSource.Generate(op, group),
                OpCode.MatMul => _plan.TiledMatMul ? MatMulSource.Tiled(op, Tile(), _loopBudget) : MatMulSource.Blocked(op, group, _loopBudget),
                OpCode.Gather => IndexSource.Gather(op, group),
                OpCode.ScatterAdd => IndexSource.ScatterAdd(op, Parallelism, group, _loopBudget),
                OpCode.OneHot => IndexSource.OneHot(op, group),
                OpCode.StoreRows => IndexSource.StoreRows(op, group),
                _ => throw new NotSupportedException($"vulkan: no kernel for {op.DisplayName}"),
            },
            _ => throw new NotSupportedException($"vulkan: unknown kernel spec {spec.GetType().Name}"),
        };
    }

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

    /// <summary>Invocations the device runs at once, roughly: what the scatter plan weighs its two shapes by.</summary>
    private long Parallelism => _desc.Info.Kind == "cpu" ? Math.Max(1, _desc.Info.ComputeUnits) * 8L : 4096;

    private static int PushConstants(VulkanKernel kernel, in LaunchParams launch, Span<uint> words)
    {
        switch (kernel.Plan.Push)
        {
            case PushArgs.Seed:
                words[0] = (uint)launch.Seed;
                words[1] = (uint)(launch.Seed >> 32);
                return 2;
            case PushArgs.Pass:
                return 0; // set per dispatch
            case PushArgs.Sgd or PushArgs.Adam:
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

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}

/// <summary>A name for a kernel built from hand-written GLSL (the loop-limit probe, tests) rather than generated from a spec.</summary>
internal sealed record RawKernelSpec(string Name) : KernelSpec
{
    public override string Key => "raw:" + Name;
    public override string DisplayName => Name;
}
