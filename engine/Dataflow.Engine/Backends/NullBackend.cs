using System.Collections.Concurrent;

namespace Dataflow.Engine.Backends;

/// <summary>
/// A backend that runs nothing (tinygrad's NULL device): buffers only record their size, every spec
/// compiles to a no-op, and launches are counted. It lets scheduling, placement and memory planning
/// be tested, and measured, without a device. Downloads read zeros, since nothing was computed.
/// </summary>
public sealed class NullBackend : IBackend
{
    private readonly ConcurrentDictionary<string, NullKernel> _cache = new();
    private long _launches, _allocations, _allocatedElements, _liveElements;

    public string Name => "null";

    public DeviceInfo Device { get; } = new("null", "null device (runs nothing)", "none", 0, 0, 0);

    /// <summary>Kernels enqueued since creation.</summary>
    public long Launches => Interlocked.Read(ref _launches);

    /// <summary>Buffers allocated since creation.</summary>
    public long Allocations => Interlocked.Read(ref _allocations);

    /// <summary>Elements of every buffer ever allocated (a memory plan that reuses buffers keeps this low).</summary>
    public long AllocatedElements => Interlocked.Read(ref _allocatedElements);

    /// <summary>Elements of the buffers not yet disposed.</summary>
    public long LiveElements => Interlocked.Read(ref _liveElements);

    /// <summary>Distinct kernel specs compiled (the cache is keyed like a real backend's).</summary>
    public int CompiledKernels => _cache.Count;

    /// <summary>The same rule as every real backend, so placement on the null device fails where theirs would.</summary>
    public Support SupportsOp(KernelSpec spec) => spec switch
    {
        OpKernelSpec op => OpKindSupport.Of(op, Name),
        FusedElementwiseSpec or OptimizerStepSpec => Support.Yes,
        _ => Support.No($"unknown kernel spec {spec.GetType().Name}"),
    };

    public IDeviceBuffer Allocate(long elements)
    {
        if (elements < 0) throw new ArgumentOutOfRangeException(nameof(elements), "a buffer cannot have a negative size");
        Interlocked.Increment(ref _allocations);
        Interlocked.Add(ref _allocatedElements, elements);
        Interlocked.Add(ref _liveElements, elements);
        return new NullBuffer(this, elements);
    }

    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<float> source, long offset = 0) => Check(buffer, offset, source.Length, "upload");

    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<int> source, long offset = 0) => Check(buffer, offset, source.Length, "upload");

    public void Download(IDeviceBuffer buffer, Span<float> destination, long offset = 0)
    {
        Check(buffer, offset, destination.Length, "download");
        destination.Clear();
    }

    public void Download(IDeviceBuffer buffer, Span<int> destination, long offset = 0)
    {
        Check(buffer, offset, destination.Length, "download");
        destination.Clear();
    }

    public ICompiledKernel Compile(KernelSpec spec)
    {
        var support = SupportsOp(spec);
        if (!support.IsSupported) throw new NotSupportedException($"null: cannot compile {spec.DisplayName}: {support.Reason}");
        return _cache.GetOrAdd(spec.Key, static (_, s) => new NullKernel(s), spec);
    }

    public void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch)
    {
        if (kernel is not NullKernel) throw new ArgumentException($"null: kernel {kernel.Spec.DisplayName} was not compiled by the null backend", nameof(kernel));
        for (int i = 0; i < buffers.Length; i++)
            if (buffers[i] is not NullBuffer b || !ReferenceEquals(b.Owner, this))
                throw new ArgumentException($"null: kernel {kernel.Spec.DisplayName}: buffer {i} does not belong to this null backend", nameof(buffers));
        Interlocked.Increment(ref _launches);
    }

    public void Wait()
    {
    }

    public void Dispose() => _cache.Clear();

    private void Check(IDeviceBuffer buffer, long offset, int length, string what)
    {
        if (buffer is not NullBuffer b || !ReferenceEquals(b.Owner, this))
            throw new ArgumentException($"null: {what}: the buffer does not belong to this null backend", nameof(buffer));
        if (b.Disposed) throw new ObjectDisposedException(nameof(NullBuffer), $"null: {what} into a disposed buffer");
        if (offset < 0 || offset + length > b.Elements)
            throw new ArgumentOutOfRangeException(nameof(offset), $"null: {what} of {length} elements at offset {offset} overruns a buffer of {b.Elements}");
    }

    internal void Released(long elements) => Interlocked.Add(ref _liveElements, -elements);

    private sealed class NullBuffer(NullBackend owner, long elements) : IDeviceBuffer
    {
        public long Elements { get; } = elements;
        public IBackend Owner => owner;
        public bool Disposed { get; private set; }

        public void Dispose()
        {
            if (Disposed) return;
            Disposed = true;
            owner.Released(Elements);
        }
    }

    private sealed class NullKernel(KernelSpec spec) : ICompiledKernel
    {
        public KernelSpec Spec { get; } = spec;
    }
}
