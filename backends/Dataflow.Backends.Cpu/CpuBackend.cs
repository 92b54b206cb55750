using System.Collections.Concurrent;
using Dataflow.Backends.Cpu.Kernels;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// The reference and default backend: runs every kernel spec on the host, multi-threaded through
/// the shared job system, SIMD where the op allows. Launches run synchronously in Enqueue, so
/// Wait has nothing to wait for and launch order is program order.
/// </summary>
public sealed class CpuBackend : IBackend, IDecodeWeights
{
    private readonly ConcurrentDictionary<string, CpuKernel> _cache = new();
    private readonly Lazy<DeviceInfo> _device = new(CpuDevice.Describe);

    public string Name => "cpu";

    public DeviceInfo Device => _device.Value;

    /// <summary>How many distinct kernels have been compiled (for logs and tests).</summary>
    public int CompiledKernels => _cache.Count;

    public Support SupportsOp(KernelSpec spec) => spec switch
    {
        OpKernelSpec op => OpKindSupport.Of(op, Name),
        FusedElementwiseSpec or OptimizerStepSpec or LayerNormSpec or GeluSpec or SoftmaxSpec or SoftmaxBackwardSpec
            or CrossEntropySpec or CrossEntropyBackwardSpec or AttentionSpec or AttentionBackwardSpec => Support.Yes,
        GeluBackwardSpec gelu => gelu.WritesOnlyOutput ? Support.Yes : Support.No($"{gelu.DisplayName} writes only dx"),
        // Width 1 reduces to a copy, not to the column sums the kernel forms.
        LayerNormBackwardSpec norm => norm.Width > 1 ? Support.Yes : Support.No($"{norm.DisplayName} over rows of 1"),
        OptimizerGroupSpec group => OptimizerGroupSpec.Groups(group.Kind) ? Support.Yes : Support.No($"{group.DisplayName} has no grouped form"),
        _ => Support.No($"unknown kernel spec {spec.GetType().Name}"),
    };

    public IDeviceBuffer Allocate(long elements) => new CpuBuffer(this, elements);

    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<float> source, long offset = 0)
    {
        var b = Range(buffer, offset, source.Length, "upload");
        source.CopyTo(b.Floats.Slice((int)offset, source.Length));
        b.Written(offset, source.Length);
    }

    /// <summary>
    /// The copy is bf16 words, or f32 where <paramref name="storage"/> is f32, and column by column (the
    /// matrix's transpose) where a product reads it as x · W: see <see cref="DecodeCopy"/>. x · Wᵀ is stored
    /// that way already, so there an f32 copy would be the weight again and none is kept. Every weight so
    /// marked (f32 or bf16) may also be read in panels by a product of 8 to 16 rows (<see cref="CpuBuffer.PanelsFor"/>).
    /// </summary>
    public void KeepDecodeCopy(IDeviceBuffer weight, WeightStorage storage, long rows, long cols, bool readTransposed)
    {
        bool bf16 = storage == WeightStorage.Bf16, transposed = !readTransposed && rows > 1 && cols > 1;
        Range(weight, 0, 0, "keep a decode copy").KeepDecodeCopy(rows, cols, bf16, transposed);
    }

    public void DropDecodeCopy(IDeviceBuffer weight) => Range(weight, 0, 0, "drop a decode copy").DropDecodeCopy();

    public void Upload(IDeviceBuffer buffer, ReadOnlySpan<int> source, long offset = 0) =>
        source.CopyTo(Range(buffer, offset, source.Length, "upload").Ints.Slice((int)offset, source.Length));

    public void Download(IDeviceBuffer buffer, Span<float> destination, long offset = 0) =>
        Range(buffer, offset, destination.Length, "download").Floats.Slice((int)offset, destination.Length).CopyTo(destination);

    public void Download(IDeviceBuffer buffer, Span<int> destination, long offset = 0) =>
        Range(buffer, offset, destination.Length, "download").Ints.Slice((int)offset, destination.Length).CopyTo(destination);

    public ICompiledKernel Compile(KernelSpec spec)
    {
        var support = SupportsOp(spec);
        if (!support.IsSupported) throw new NotSupportedException($"cpu: cannot compile {spec.DisplayName}: {support.Reason}");
        return _cache.GetOrAdd(spec.Key, static (_, s) => Create(s), spec);
    }

    private static CpuKernel Create(KernelSpec spec) => spec switch
    {
        FusedElementwiseSpec fused => new FusedElementwiseKernel(fused),
        OptimizerStepSpec step => new OptimizerKernel(step),
        OptimizerGroupSpec group => new OptimizerGroupKernel(group),
        LayerNormSpec norm => new LayerNormKernel(norm),
        GeluSpec gelu => new GeluKernel(gelu),
        GeluBackwardSpec gelu => new GeluBackwardKernel(gelu),
        LayerNormBackwardSpec norm => new LayerNormBackwardKernel(norm),
        SoftmaxSpec softmax => new SoftmaxKernel(softmax),
        SoftmaxBackwardSpec backward => new SoftmaxBackwardKernel(backward),
        CrossEntropySpec crossEntropy => new CrossEntropyKernel(crossEntropy),
        CrossEntropyBackwardSpec backward => new CrossEntropyBackwardKernel(backward),
        AttentionSpec attention => new AttentionKernel(attention),
        AttentionBackwardSpec attentionBackward => new AttentionBackwardKernel(attentionBackward),
        OpKernelSpec op => op.Op switch
        {
            OpCode.Constant => new ConstantKernel(op),
            OpCode.Iota => new IotaKernel(op),
            OpCode.CausalMask => new CausalMaskKernel(op),
            OpCode.DropoutMask => new DropoutMaskKernel(op),
            OpCode.ReduceSum or OpCode.ReduceMax => new ReduceKernel(op),
            OpCode.Reshape => new ReshapeKernel(op),
            OpCode.Permute => new PermuteKernel(op),
            OpCode.Expand => new ExpandKernel(op),
            OpCode.MatMul => new MatMulKernel(op),
            OpCode.Gather => new GatherKernel(op),
            OpCode.ScatterAdd => new ScatterAddKernel(op),
            OpCode.OneHot => new OneHotKernel(op),
            OpCode.StoreRows => new StoreRowsKernel(op),
            OpCode.CachedAttention => new CachedAttentionKernel(op),
            _ => throw new NotSupportedException($"cpu: no kernel for {op.DisplayName}"),
        },
        _ => throw new NotSupportedException($"cpu: unknown kernel spec {spec.GetType().Name}"),
    };

    public void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch)
    {
        // A CPU kernel is code and plans, no device state: any CpuBackend runs it (tests build kernels with chosen tiles directly).
        var cpu = LaunchCheck.Kernel<CpuKernel>("cpu", kernel);
        var need = cpu.BufferElements;
        LaunchCheck.OmittedBuffers("cpu", cpu.Spec, need.Length, cpu.OptionalTrailingBuffers, buffers.Length);

        // One array of each length per calling thread, reused: a decode step launches hundreds of kernels,
        // and the grouped optimizer's launch binds four buffers per parameter.
        var arrays = _bound ??= new CpuBuffer[BoundArrays][];
        if (buffers.Length >= arrays.Length) Array.Resize(ref _bound, Math.Max(buffers.Length + 1, 2 * arrays.Length));
        var bound = _bound[buffers.Length] ??= new CpuBuffer[buffers.Length];
        for (int i = 0; i < buffers.Length; i++)
            bound[i] = LaunchCheck.Buffer<CpuBuffer>("cpu", this, cpu.Spec, buffers, i, need[i], static b => b.IsDisposed);
        try
        {
            cpu.Run(bound, launch);
        }
        finally
        {
            Array.Clear(bound);   // hold no buffer past its launch
        }
    }

    private const int BoundArrays = 16;
    [ThreadStatic] private static CpuBuffer[][]? _bound;

    public void Wait()
    {
    }

    public void Dispose() => _cache.Clear();

    private CpuBuffer Range(IDeviceBuffer buffer, long offset, int length, string what)
    {
        if (buffer is not CpuBuffer b || !ReferenceEquals(b.Owner, this))
            throw new ArgumentException($"cpu: {what}: the buffer does not belong to this cpu backend", nameof(buffer));
        if (offset < 0 || offset + length > b.Elements)
            throw new ArgumentOutOfRangeException(nameof(offset), $"cpu: {what} of {length} elements at offset {offset} overruns a buffer of {b.Elements}");
        return b;
    }
}
