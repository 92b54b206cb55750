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
    /// The copy a decode step's streaming products read (bf16 words, or f32 column by column), or null. The
    /// f32 values stay as they are, rounded to the copy's bf16 values where it has words, for the kernels that
    /// read them (gathers, the packed GEMM of a prefill, which is compute bound): every kernel sees the same weights.
    /// </summary>
    internal DecodeCopy? Decode { get; private set; }

    /// <summary>Starts keeping a decode copy of this [<paramref name="rows"/>, <paramref name="cols"/>] matrix (the first request stands); see <see cref="Decode"/>.</summary>
    internal void KeepDecodeCopy(long rows, long cols, bool bf16, bool transposed)
    {
        if (Decode is not null) return;
        if (rows * cols != Elements) throw new ArgumentException($"a [{rows}, {cols}] decode copy of a buffer of {Elements} elements");
        Decode = DecodeCopy.Create(Pointer, rows, cols, bf16, transposed);
    }

    /// <summary>Frees an f32 decode copy (bf16 words stay: the values are rounded to them).</summary>
    internal void DropDecodeCopy()
    {
        if (Decode is null || Decode.IsBf16) return;
        Decode.Dispose();
        Decode = null;
    }

    /// <summary>After f32 values were written into [offset, offset + length): refreshes the decode copy, if the buffer keeps one.</summary>
    internal void Written(long offset, int length) => Decode?.Refresh(Pointer, offset, length);

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }

    private void Free()
    {
        NativeMemory.Free(_data);
        _data = null;
        Decode?.Dispose();
        Decode = null;
    }
}
