using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// Host memory for one tensor: raw 4-byte elements viewed as float or int. The memory is native,
/// from a zeroing allocation (calloc: a large one maps fresh pages the kernel zeroes on first
/// touch), and freed on Dispose. A pinned managed array was here before: a second program in one
/// process then reused the first one's collected space, which the runtime must clear by hand, so
/// compiling GPT-2 124M a second time touched every page of its buffers up front (60 s of page
/// faults under load, twice the resident memory) where the first compile touched none.
/// </summary>
public sealed unsafe class CpuBuffer : IDeviceBuffer
{
    private float* _data;

    internal CpuBuffer(CpuBackend owner, long elements)
    {
        if (elements < 0) throw new ArgumentOutOfRangeException(nameof(elements), "a buffer cannot have a negative size");
        MemoryBudget.RequireBuffer("cpu", elements, Array.MaxLength);
        Owner = owner;
        Elements = elements;
        _data = (float*)NativeMemory.AllocZeroed((nuint)Math.Max(1, elements), sizeof(float));
    }

    // A buffer nobody disposed still gives its memory back.
    ~CpuBuffer() => Free();

    public long Elements { get; }
    public IBackend Owner { get; }

    internal bool IsDisposed => _data is null;

    internal Span<float> Floats => new(Pointer, (int)Elements);
    internal Span<int> Ints => new(Pointer, (int)Elements);

    /// <summary>Stable for the buffer's whole life (native memory does not move).</summary>
    internal float* Pointer => _data is not null ? _data : throw new ObjectDisposedException(nameof(CpuBuffer));

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

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        NativeMemory.Free(_data);
        _data = null;
        _bf16 = null;
    }
}
