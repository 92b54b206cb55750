using Dataflow.Backends.Vulkan.Sources;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;
using DeviceInfo = Dataflow.Engine.Backends.DeviceInfo;

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
/// The work is done by one type each: <see cref="VulkanDevice"/> (device and queue),
/// <see cref="VulkanMemory"/> (buffers), <see cref="VulkanPipelines"/> (shader modules and pipelines),
/// <see cref="VulkanKernelFactory"/> (spec to kernel), <see cref="VulkanRecorder"/> (command buffer);
/// this type is the <see cref="IBackend"/> over them and owns which kernels and buffers are alive.
/// </summary>
public sealed unsafe class VulkanBackend : IBackend
{
    /// <summary>The largest tensor the 32-bit index math of the shaders addresses.</summary>
    private const long MaxElements = int.MaxValue;

    private readonly VulkanDevice _device;
    private readonly VulkanMemory _memory;
    private readonly VulkanPipelines _pipelines;
    private readonly VulkanRecorder _recorder;
    private readonly VulkanKernelFactory _kernelFactory;
    private readonly DeviceInfo _info;
    private readonly Dictionary<string, VulkanKernel> _kernels = new();
    private readonly HashSet<VulkanBuffer> _buffers = new();
    private readonly object _gate = new();
    private bool _disposed;

    private VulkanBackend(VulkanDevice device, KernelPlan? plan, IShaderCompiler compiler)
    {
        var desc = device.Desc;
        var kernelPlan = plan ?? KernelPlan.For(desc.Info.Kind);
        _device = device;
        _memory = new VulkanMemory(device, this);
        _pipelines = new VulkanPipelines(device, compiler);
        _recorder = new VulkanRecorder(device, _memory);
        uint ran = LoopLimitProbe.Measure(new VulkanKernelFactory(this, desc, kernelPlan, _pipelines, _memory, LoopBudget.Unlimited), _memory, _recorder);
        _kernelFactory = new VulkanKernelFactory(this, desc, kernelPlan, _pipelines, _memory, LoopLimitProbe.Budget(ran));
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
    public static IReadOnlyList<DeviceInfo> ListDevices() => VulkanDevices.List(VkApi.Get());

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
        var device = VulkanDevice.Open(vk, deviceIndex);
        try
        {
            return new VulkanBackend(device, plan, compiler);
        }
        catch
        {
            device.Dispose(); // the instance with it
            throw;
        }
    }

    public string Name => "vulkan";

    public DeviceInfo Device => _info;

    /// <summary>Loop iterations one shader invocation may run (<see cref="LoopBudget"/>): long.MaxValue where the driver sets no limit.</summary>
    internal long LoopBudgetIterations => _kernelFactory.LoopBudget;

    /// <summary>Distinct kernel specs compiled (for logs and tests).</summary>
    public int CompiledKernels
    {
        get { lock (_gate) return _kernels.Count; }
    }

    /// <summary>Distinct GLSL sources compiled to SPIR-V.</summary>
    public int CompiledShaders => _pipelines.CompiledShaders;

    /// <summary>Command buffers submitted so far: batches of launches.</summary>
    public long Submissions => _recorder.Submissions;

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
        long range = _device.Desc.MaxStorageBufferRange;
        if (largest * sizeof(float) > range)
            return Support.No($"{spec.DisplayName}: a tensor of {largest} elements exceeds the device's storage buffer range ({range} bytes)");
        return Support.Yes;
    }

    public IDeviceBuffer Allocate(long elements)
    {
        if (elements < 0) throw new ArgumentOutOfRangeException(nameof(elements), "a buffer cannot have a negative size");
        lock (_gate)
        {
            ThrowIfDisposed();
            var buffer = _memory.Create(elements);
            _buffers.Add(buffer);
            return buffer;
        }
    }

    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<float> source, long offset = 0)
    {
        fixed (float* p = source) Copy(buffer, p, offset, source.Length, upload: true);
    }

    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<int> source, long offset = 0)
    {
        fixed (int* p = source) Copy(buffer, p, offset, source.Length, upload: true);
    }

    public void Download(IDeviceBuffer buffer, Span<float> destination, long offset = 0)
    {
        fixed (float* p = destination) Copy(buffer, p, offset, destination.Length, upload: false);
    }

    public void Download(IDeviceBuffer buffer, Span<int> destination, long offset = 0)
    {
        fixed (int* p = destination) Copy(buffer, p, offset, destination.Length, upload: false);
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
        var kernel = _kernelFactory.Build(spec);
        lock (_gate)
        {
            if (!_disposed && _kernels.TryAdd(spec.Key, kernel)) return kernel;
            _kernelFactory.Destroy(kernel);
            ThrowIfDisposed();
            return _kernels[spec.Key];
        }
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
        int pushWords = PushConstants.Of(vkKernel, launch, push);

        lock (_gate)
        {
            ThrowIfDisposed();
            if (vkKernel.IsEmpty) return;
            _recorder.Record(vkKernel, vkKernel.Pipelines[omitted], bound, push[..pushWords]);
        }
    }

    public void Wait()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            _recorder.Flush();
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
            _pipelines.CheckCompiles(name, source);
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            try
            {
                _recorder.Flush();
            }
            finally
            {
                _disposed = true;
                _device.WaitIdle();
                foreach (var kernel in _kernels.Values) _kernelFactory.Destroy(kernel);
                _kernels.Clear();
                foreach (var buffer in _buffers) _memory.Destroy(buffer);
                _buffers.Clear();
                _recorder.Dispose();
                _pipelines.Dispose();
                _device.Dispose();
            }
        }
    }

    /// <summary>A buffer's Dispose: freed now, or after the batch that still uses it has run.</summary>
    internal void Release(VulkanBuffer buffer)
    {
        lock (_gate)
        {
            if (_disposed || !_buffers.Remove(buffer)) return; // the backend's own Dispose freed it
            _recorder.Release(buffer);
        }
    }

    /// <summary>A copy between the host and a mapped buffer, after the recorded batch if a launch in it binds the buffer.</summary>
    private void Copy(IDeviceBuffer buffer, void* host, long offset, int length, bool upload)
    {
        string what = upload ? "upload" : "download";
        if (buffer is not VulkanBuffer b || !ReferenceEquals(b.Owner, this))
            throw new ArgumentException($"vulkan: {what}: the buffer does not belong to this vulkan backend", nameof(buffer));
        if (b.IsDisposed) throw new ObjectDisposedException(nameof(VulkanBuffer), $"vulkan: {what} into a disposed buffer");
        if (offset < 0 || offset + length > b.Elements)
            throw new ArgumentOutOfRangeException(nameof(offset), $"vulkan: {what} of {length} elements at offset {offset} overruns a buffer of {b.Elements}");
        if (length == 0) return;
        long bytes = (long)length * 4;
        byte* mapped = (byte*)b.Mapped + offset * 4;
        lock (_gate)
        {
            ThrowIfDisposed();
            // A recorded launch may still read (or write) this buffer: run the batch first.
            if (_recorder.Uses(b)) _recorder.Flush();
            if (upload) System.Buffer.MemoryCopy(host, mapped, bytes, bytes);
            else System.Buffer.MemoryCopy(mapped, host, bytes, bytes);
        }
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
