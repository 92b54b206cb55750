using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// Host memory for one tensor: raw 4-byte elements viewed as float or int. The array lives on the
/// pinned object heap so kernels can work through pointers without pinning on every launch.
/// </summary>
public sealed unsafe class CpuBuffer : IDeviceBuffer
{
    private float[]? _data;

    internal CpuBuffer(CpuBackend owner, long elements)
    {
        if (elements < 0) throw new ArgumentOutOfRangeException(nameof(elements), "a buffer cannot have a negative size");
        MemoryBudget.RequireBuffer("cpu", elements, Array.MaxLength);
        Owner = owner;
        Elements = elements;
        _data = GC.AllocateArray<float>((int)elements, pinned: true); // zeroed by the runtime
    }

    public long Elements { get; }
    public IBackend Owner { get; }

    internal float[] Data => _data ?? throw new ObjectDisposedException(nameof(CpuBuffer));

    internal bool IsDisposed => _data is null;

    internal Span<float> Floats => Data;
    internal Span<int> Ints => MemoryMarshal.Cast<float, int>(Data.AsSpan());

    /// <summary>Stable because the array is pinned for its whole life.</summary>
    internal float* Pointer => (float*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(Data));

    /// <summary>
    /// The values as bfloat16 words (a weight stored as bf16), or null. The f32 values stay beside them,
    /// rounded to the same bf16 values, for the kernels that do not read bf16 (gathers, the packed GEMM
    /// of a prefill, which is compute bound): every kernel sees the same weights either way.
    /// </summary>
    internal ushort* Bf16Pointer => _bf16 is null ? null : (ushort*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_bf16));

    private ushort[]? _bf16;

    /// <summary>Starts keeping the values as bfloat16 (idempotent); see <see cref="Bf16Pointer"/>.</summary>
    internal void StoreAsBf16()
    {
        if (_bf16 is not null) return;
        _bf16 = GC.AllocateUninitializedArray<ushort>((int)Elements, pinned: true);
        Kernels.Bf16.Narrow(Floats, _bf16);
    }

    /// <summary>After f32 values were written into [offset, offset + length): rounds them and their bf16 words again, if the buffer keeps any.</summary>
    internal void Written(long offset, int length)
    {
        if (_bf16 is not null) Kernels.Bf16.Narrow(Floats.Slice((int)offset, length), _bf16.AsSpan((int)offset, length));
    }

    public void Dispose() => (_data, _bf16) = (null, null);
}
