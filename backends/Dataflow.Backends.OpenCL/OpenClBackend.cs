using System.Text;
using Dataflow.Backends.OpenCL.Sources;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Backends.Sources;
using Dataflow.Graph.Ops;
using Silk.NET.OpenCL;
using DeviceInfo = Dataflow.Engine.Backends.DeviceInfo;

namespace Dataflow.Backends.OpenCL;

/// <summary>
/// Runs kernel specs on an OpenCL device. Each spec becomes OpenCL C generated for its exact shapes,
/// built once (programs cached by a hash of source and device), and launched on one in-order command
/// queue: Enqueue returns at once, launches run in order, Wait is clFinish. Uploads and downloads
/// block, since they copy from and to spans the caller owns.
/// </summary>
public sealed unsafe class OpenClBackend : IBackend
{
    /// <summary>Work-items per group that the tiled and tree generators aim for; devices that allow fewer get fewer.</summary>
    private const int PreferredGroup = 256;

    private readonly CL _cl;
    private readonly ClDevice _device;
    private readonly nint _context;
    private readonly nint _queue;
    private readonly string _buildOptions;
    private readonly KernelCache _programs;
    private readonly KernelPlan _plan;
    private readonly Dictionary<string, OpenClKernel> _kernels = new();
    private readonly HashSet<OpenClBuffer> _buffers = new();
    private readonly object _gate = new();
    private bool _disposed;

    private OpenClBackend(CL cl, ClDevice device, KernelPlan? plan)
    {
        _cl = cl;
        _device = device;
        _plan = plan ?? KernelPlan.For(device.Info.Kind);
        int err;
        nint handle = device.Handle;
        _context = cl.CreateContext(null, 1, &handle, null, null, &err);
        if (err != 0) throw new BackendUnavailableException($"opencl: cannot create a context on {device.Info.Name}: {ClApi.ErrorName(err)}");
        _queue = cl.CreateCommandQueue(_context, handle, CommandQueueProperties.None, &err);
        if (err != 0)
        {
            cl.ReleaseContext(_context);
            throw new BackendUnavailableException($"opencl: cannot create a command queue on {device.Info.Name}: {ClApi.ErrorName(err)}");
        }
        // Correctly rounded division and sqrt where the device offers them: the CPU's are, and
        // OpenCL's default allows 2.5 and 3 ulps. Never fast-relaxed math: it breaks inf and NaN.
        _buildOptions = device.CorrectlyRoundedDivideSqrt ? "-cl-fp32-correctly-rounded-divide-sqrt" : "";
        _programs = new KernelCache(p => _cl.ReleaseProgram(p));
    }

    /// <summary>
    /// Every OpenCL device on every platform, GPUs first. Throws <see cref="BackendUnavailableException"/>
    /// when the OpenCL library itself cannot be loaded; an empty list means no driver offers a device.
    /// </summary>
    public static IReadOnlyList<DeviceInfo> ListDevices() => OpenClDevices.Find(ClApi.Get()).Select(d => d.Info).ToList();

    /// <summary>Opens device <paramref name="deviceIndex"/> of <see cref="ListDevices"/> (0: the first GPU if there is one).</summary>
    public static OpenClBackend Create(int deviceIndex = 0) => Create(deviceIndex, plan: null);

    /// <summary>
    /// Opens a device with a chosen <see cref="KernelPlan"/> instead of the one its kind suggests:
    /// so tests on a CPU driver also cover the kernels meant for GPUs.
    /// </summary>
    internal static OpenClBackend Create(int deviceIndex, KernelPlan? plan)
    {
        var cl = ClApi.Get();
        IReadOnlyList<ClDevice> devices;
        try
        {
            devices = OpenClDevices.Find(cl);
        }
        catch (OpenClException e)
        {
            throw new BackendUnavailableException($"opencl: cannot list devices: {e.Message}", e);
        }
        if (devices.Count == 0)
            throw new BackendUnavailableException("opencl: no OpenCL device found: the loader sees no platform with a device. " +
                                                  "Install a driver (for a CPU, pocl-opencl-icd) and check `clinfo -l`.");
        if (deviceIndex < 0 || deviceIndex >= devices.Count)
            throw new ArgumentOutOfRangeException(nameof(deviceIndex),
                $"opencl: there is no device {deviceIndex}; found {devices.Count}: " +
                string.Join("; ", devices.Select((d, i) => $"{i}: {d.Info.Name} ({d.Info.Kind})")));
        return new OpenClBackend(cl, devices[deviceIndex], plan);
    }

    public string Name => "opencl";

    public DeviceInfo Device => _device.Info;

    /// <summary>Distinct kernel specs compiled (for logs and tests).</summary>
    public int CompiledKernels
    {
        get { lock (_gate) return _kernels.Count; }
    }

    public Support SupportsOp(KernelSpec spec) => GeneratedSourceSupport.ByKind(spec, "opencl");

    public IDeviceBuffer Allocate(long elements)
    {
        if (elements < 0) throw new ArgumentOutOfRangeException(nameof(elements), "a buffer cannot have a negative size");
        lock (_gate)
        {
            ThrowIfDisposed();
            nuint bytes = (nuint)(Math.Max(1, elements) * sizeof(float));
            int err;
            nint mem = _cl.CreateBuffer(_context, MemFlags.ReadWrite, bytes, null, &err);
            // CL_INVALID_BUFFER_SIZE, CL_MEM_OBJECT_ALLOCATION_FAILURE, CL_OUT_OF_RESOURCES: too large, a user's choice.
            if (err is -61 or -4 or -5)
                throw new DeviceMemoryException($"the opencl device cannot allocate a buffer of {elements:N0} elements ({MemoryBudget.Format(MemoryBudget.Bytes(elements, "a buffer"))}); use a smaller batch, sequence length or model");
            if (err != 0) throw new OpenClException($"clCreateBuffer of {elements} elements", err);
            // Zero-initialised like every backend's buffers; queued, so it lands before any later launch.
            float zero = 0;
            err = _cl.EnqueueFillBuffer(_queue, mem, &zero, sizeof(float), 0, bytes, 0, null, null);
            if (err != 0)
            {
                _cl.ReleaseMemObject(mem);
                throw new OpenClException("clEnqueueFillBuffer", err);
            }
            var buffer = new OpenClBuffer(this, mem, elements);
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
        if (!support.IsSupported) throw new NotSupportedException($"opencl: cannot compile {spec.DisplayName}: {support.Reason}");
        lock (_gate)
        {
            ThrowIfDisposed();
            if (_kernels.TryGetValue(spec.Key, out var cached)) return cached;
        }
        // Built outside the gate, so kernels compile in parallel (the engine compiles a graph's kernels
        // on the job system) while launches and copies go on: generation is pure, the program cache
        // builds each source once, and clCreateProgramWithSource, clBuildProgram, clCreateKernel and
        // clCreateBuffer are thread-safe (OpenCL 1.2, 4.3; only clSetKernelArg, done under the gate at
        // launch, is not; Silk.NET's string marshalling is not either, see MarshalGate). Two threads
        // building one spec keep the first kernel and release the other.
        var kernel = Build(spec);
        lock (_gate)
        {
            if (!_disposed && _kernels.TryAdd(spec.Key, kernel)) return kernel;
            ReleaseKernel(kernel);
            ThrowIfDisposed();
            return _kernels[spec.Key];
        }
    }

    private void ReleaseKernel(OpenClKernel kernel)
    {
        foreach (var k in kernel.Kernels) _cl.ReleaseKernel(k);
        if (kernel.Baked != 0) _cl.ReleaseMemObject(kernel.Baked);
    }

    public void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch)
    {
        var cl = LaunchCheck.Kernel<OpenClKernel>("opencl", this, kernel, static k => k.Owner);
        var plan = cl.Plan;
        var need = plan.BufferElements;
        string name = cl.Spec.DisplayName;
        int omitted = LaunchCheck.OmittedBuffers("opencl", cl.Spec, need.Length, plan.OptionalTrailingBuffers, buffers.Length);
        Span<nint> handles = stackalloc nint[buffers.Length];
        for (int i = 0; i < buffers.Length; i++)
            handles[i] = LaunchCheck.Buffer<OpenClBuffer>("opencl", this, cl.Spec, buffers, i, need[i], static b => b.IsDisposed).Handle;
        float[]? scalars = plan.Scalars is LaunchScalars.Sgd or LaunchScalars.Adam
            ? OptimizerArguments.Of((OptimizerStepSpec)cl.Spec, launch.Scalars)
            : null;

        lock (_gate)
        {
            ThrowIfDisposed();
            if (cl.IsEmpty) return;
            nint k = cl.Kernels[omitted];
            uint arg = 0;
            foreach (var h in handles)
            {
                nint mem = h;
                ClApi.Check(_cl.SetKernelArg(k, arg++, (nuint)sizeof(nint), &mem), $"clSetKernelArg({name}, buffer {arg - 1})");
            }
            if (plan.Scalars == LaunchScalars.Seed)
            {
                uint lo = (uint)launch.Seed, hi = (uint)(launch.Seed >> 32);
                ClApi.Check(_cl.SetKernelArg(k, arg++, sizeof(uint), &lo), $"clSetKernelArg({name}, seed)");
                ClApi.Check(_cl.SetKernelArg(k, arg++, sizeof(uint), &hi), $"clSetKernelArg({name}, seed)");
            }
            if (scalars is not null)
            {
                foreach (var s in scalars)
                {
                    float v = s;
                    ClApi.Check(_cl.SetKernelArg(k, arg++, sizeof(float), &v), $"clSetKernelArg({name}, scalar {arg - 1})");
                }
            }
            if (cl.Baked != 0)
            {
                nint mem = cl.Baked;
                ClApi.Check(_cl.SetKernelArg(k, arg, (nuint)sizeof(nint), &mem), $"clSetKernelArg({name}, data)");
            }

            int dims = cl.Global.Length;
            nuint* global = stackalloc nuint[dims];
            nuint* local = stackalloc nuint[dims];
            for (int d = 0; d < dims; d++)
            {
                global[d] = (nuint)cl.Global[d];
                local[d] = (nuint)cl.Local[d];
            }
            ClApi.Check(_cl.EnqueueNdrangeKernel(_queue, k, (uint)dims, null, global, local, 0, null, null), $"clEnqueueNDRangeKernel({name})");
        }
    }

    public void Wait()
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            ClApi.Check(_cl.Finish(_queue), "clFinish");
        }
    }

    /// <summary>
    /// Builds raw OpenCL C and creates kernel <paramref name="name"/> from it, then releases both:
    /// for tests of compile-error reporting and for checking hand-written kernels against a device.
    /// </summary>
    internal void CompileSource(string name, string source)
    {
        lock (_gate)
        {
            ThrowIfDisposed();
            nint program = BuildProgram(name, source);
            try
            {
                _cl.ReleaseKernel(CreateKernel(program, name, name));
            }
            finally
            {
                _cl.ReleaseProgram(program);
            }
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            if (_disposed) return;
            _disposed = true;
            _cl.Finish(_queue);
            foreach (var kernel in _kernels.Values) ReleaseKernel(kernel);
            _kernels.Clear();
            _programs.Dispose();
            foreach (var buffer in _buffers.ToList()) buffer.Dispose(); // each comes back through Release
            _cl.ReleaseCommandQueue(_queue);
            _cl.ReleaseContext(_context);
        }
    }

    internal void Release(OpenClBuffer buffer, nint handle)
    {
        lock (_gate)
        {
            // A buffer hands its handle over exactly once (Dispose swaps it for 0), so this never double-frees,
            // and the backend's own Dispose releases what is left before the context goes.
            _buffers.Remove(buffer);
            _cl.ReleaseMemObject(handle);
        }
    }

    /// <summary>
    /// Generates, builds and sizes a kernel. Sources with local-memory tiles or trees fix their group
    /// size; if the built kernel cannot run groups that large (registers, local memory), it is
    /// generated again for half the size.
    /// </summary>
    private OpenClKernel Build(KernelSpec spec)
    {
        int group = (int)Math.Min(Math.Min(PreferredGroup, _device.MaxWorkGroupSize), _device.MaxWorkItemSizes.FirstOrDefault(1));
        group = 1 << (31 - int.LeadingZeroCount(Math.Max(1, group))); // a power of two, for the reduction trees
        while (true)
        {
            var source = Generate(spec, group);
            nint program = _programs.GetOrBuild(KernelCache.KeyOf(source.Source, _buildOptions, _device.CompilerIdentity),
                () => BuildProgram(spec.DisplayName, source.Source));
            var kernels = source.Entries.Select(e => CreateKernel(program, e, spec.DisplayName)).ToArray();
            long allowed = kernels.Min(WorkGroupSize);
            if (source.Local is not null && source.RequiredGroupSize > allowed)
            {
                foreach (var k in kernels) _cl.ReleaseKernel(k);
                if (group == 1) throw new OpenClException($"{spec.DisplayName}: the device cannot run even single-item groups", -54);
                group /= 2;
                continue;
            }
            // Sources that leave the group size open are sized along their first axis only.
            long[] local = source.Local ?? [LocalSize1D(allowed, source.Global), .. Enumerable.Repeat(1L, source.Global.Length - 1)];
            nint baked = source.Baked is null ? 0 : Upload(source.Baked);
            return new OpenClKernel(this, spec, source, kernels, local, baked);
        }
    }

    private KernelSource Generate(KernelSpec spec, int group) =>
        KernelSource.From(KernelEmitter.Emit(spec, CDialect.OpenCl, new EmitPlan(Name, group, MaxGroup: group, _plan.ReduceSerialLimit,
            LoopBudget.Unlimited, _plan.BlockedMatMul, Tile(group), Parallelism)), spec.Key);

    /// <summary>The largest square tile whose T² work-items fit in a group (16 on anything modern).</summary>
    private int Tile(int group)
    {
        int tile = 16;
        long second = _device.MaxWorkItemSizes.Length > 1 ? _device.MaxWorkItemSizes[1] : 1;
        while (tile > 1 && ((long)tile * tile > group || tile > second)) tile /= 2;
        return tile;
    }

    /// <summary>Work-items the device runs at once, roughly: what the scatter plan weighs its two shapes by.</summary>
    private long Parallelism => (long)Math.Max(1, _device.ComputeUnits) * (_device.Info.Kind == "gpu" ? 64 : 1);

    /// <summary>
    /// The first-axis group size for kernels that do not fix one: as large as allowed up to the plan's
    /// open-group size, but small enough that every compute unit gets the plan's share of groups, and
    /// no larger than the work.
    /// </summary>
    private long LocalSize1D(long allowed, long[] global)
    {
        long work = global[0], otherGroups = global.Skip(1).Aggregate(1L, (a, b) => a * Math.Max(1, b));
        long size = Math.Min(Math.Min(allowed, _plan.OpenGroup), Math.Min(_device.MaxWorkGroupSize, _device.MaxWorkItemSizes.FirstOrDefault(1)));
        long wanted = _plan.GroupsPerComputeUnit * Math.Max(1, _device.ComputeUnits);
        while (size > _plan.MinOpenGroup && (work + size - 1) / size * otherGroups < wanted) size /= 2;
        while (size > 1 && size / 2 >= work) size /= 2; // tiny launches: don't pad one element to 256
        return Math.Max(1, size);
    }

    /// <summary>
    /// Held around the Silk.NET calls that marshal strings or a callback: their wrappers pin those in a
    /// process-wide table (<c>GcUtility.PinUntilNextCall</c>) that is not safe for concurrent callers
    /// (seen: <c>List.RemoveAt</c> out of range under parallel compiles). The OpenCL calls themselves are
    /// thread-safe, but through these wrappers program builds run one at a time; source generation,
    /// sizing and the cache stay parallel.
    /// </summary>
    private static readonly object MarshalGate = new();

    private nint BuildProgram(string kernelName, string source)
    {
        int err;
        nint program;
        lock (MarshalGate) program = _cl.CreateProgramWithSource(_context, 1, [source], null, &err);
        ClApi.Check(err, $"clCreateProgramWithSource({kernelName})");
        nint device = _device.Handle;
        lock (MarshalGate) err = _cl.BuildProgram(program, 1, &device, _buildOptions, null, null);
        if (err == 0) return program;
        string log = BuildLog(program);
        _cl.ReleaseProgram(program);
        if (err == -11) throw new KernelCompileException(Name, kernelName, log + "\n--- source ---\n" + Numbered(source));
        throw new OpenClException($"clBuildProgram({kernelName}): {log}", err);
    }

    private nint CreateKernel(nint program, string entry, string kernelName)
    {
        int err;
        nint kernel;
        lock (MarshalGate) kernel = _cl.CreateKernel(program, entry, &err);
        if (err != 0) throw new KernelCompileException(Name, kernelName, $"clCreateKernel({entry}): {ClApi.ErrorName(err)}");
        return kernel;
    }

    private long WorkGroupSize(nint kernel)
    {
        nuint size;
        ClApi.Check(_cl.GetKernelWorkGroupInfo(kernel, _device.Handle, KernelWorkGroupInfo.WorkGroupSize, (nuint)sizeof(nuint), &size, null),
            "clGetKernelWorkGroupInfo");
        return (long)size;
    }

    private string BuildLog(nint program)
    {
        nuint size;
        if (_cl.GetProgramBuildInfo(program, _device.Handle, ProgramBuildInfo.BuildLog, 0, null, &size) != 0 || size == 0) return "(no build log)";
        var bytes = new byte[(int)size];
        fixed (byte* b = bytes) _cl.GetProgramBuildInfo(program, _device.Handle, ProgramBuildInfo.BuildLog, size, b, null);
        return Encoding.UTF8.GetString(bytes).TrimEnd('\0').Trim();
    }

    private static string Numbered(string source) =>
        string.Join('\n', source.Split('\n').Select((line, i) => $"{i + 1,4}: {line}"));

    private nint Upload(float[] data)
    {
        int err;
        fixed (float* p = data)
        {
            nint mem = _cl.CreateBuffer(_context, MemFlags.ReadOnly | MemFlags.CopyHostPtr, (nuint)(data.Length * sizeof(float)), p, &err);
            ClApi.Check(err, "clCreateBuffer(constant data)");
            return mem;
        }
    }

    private void Write(IDeviceBuffer buffer, void* source, long offset, int length)
    {
        var b = Range(buffer, offset, length, "upload");
        if (length == 0) return;
        lock (_gate)
        {
            ThrowIfDisposed();
            ClApi.Check(_cl.EnqueueWriteBuffer(_queue, b.Handle, true, (nuint)(offset * 4), (nuint)((long)length * 4), source, 0, null, null),
                "clEnqueueWriteBuffer");
        }
    }

    private void Read(IDeviceBuffer buffer, void* destination, long offset, int length)
    {
        var b = Range(buffer, offset, length, "download");
        if (length == 0) return;
        lock (_gate)
        {
            ThrowIfDisposed();
            ClApi.Check(_cl.EnqueueReadBuffer(_queue, b.Handle, true, (nuint)(offset * 4), (nuint)((long)length * 4), destination, 0, null, null),
                "clEnqueueReadBuffer");
        }
    }

    private OpenClBuffer Range(IDeviceBuffer buffer, long offset, int length, string what)
    {
        if (buffer is not OpenClBuffer b || !ReferenceEquals(b.Owner, this))
            throw new ArgumentException($"opencl: {what}: the buffer does not belong to this opencl backend", nameof(buffer));
        if (offset < 0 || offset + length > b.Elements)
            throw new ArgumentOutOfRangeException(nameof(offset), $"opencl: {what} of {length} elements at offset {offset} overruns a buffer of {b.Elements}");
        return b;
    }

    private void ThrowIfDisposed() => ObjectDisposedException.ThrowIf(_disposed, this);
}
