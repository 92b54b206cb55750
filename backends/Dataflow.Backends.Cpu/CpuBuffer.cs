using System.Runtime.InteropServices;
using Dataflow.Backends.Cpu.Kernels;
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

    /// <summary>
    /// Starts keeping a decode copy of this [<paramref name="rows"/>, <paramref name="cols"/>] matrix (the first
    /// request stands; <paramref name="bf16"/> or <paramref name="transposed"/>, else the values are read as they
    /// are), and lets batched decode steps read it in panels; see <see cref="Decode"/> and <see cref="PanelsFor"/>.
    /// </summary>
    internal void KeepDecodeCopy(long rows, long cols, bool bf16, bool transposed)
    {
        if (rows * cols != Elements) throw new ArgumentException($"a [{rows}, {cols}] decode copy of a buffer of {Elements} elements");
        if (Decode is null && (bf16 || transposed)) Decode = DecodeCopy.Create(Pointer, rows, cols, bf16, transposed);
        _panelsAllowed = true;
    }

    /// <summary>Frees an f32 decode copy and the panels (bf16 words stay: the values are rounded to them).</summary>
    internal void DropDecodeCopy()
    {
        _panelsAllowed = false;
        DropPanels();
        if (Decode is null || Decode.IsBf16) return;
        Decode.Dispose();
        Decode = null;
    }

    /// <summary>After f32 values were written into [offset, offset + length): refreshes the decode copy, if the buffer keeps one, and drops the panels (made again when next read).</summary>
    internal void Written(long offset, int length)
    {
        Decode?.Refresh(Pointer, offset, length);
        DropPanels();
    }

    private bool _panelsAllowed;
    private DecodePanels? _panels;
    private readonly object _panelsGate = new();

    /// <summary>
    /// The weight in panels for a product that reads it through <paramref name="b"/> as B [k, n]
    /// (<see cref="GemvPanels"/>), made on first use; null where the buffer keeps no decode copy (not an
    /// inference weight, or one a training session writes in place), or its panels serve another product.
    /// </summary>
    internal DecodePanels? PanelsFor(in Gemm.Operand b, int k, int n)
    {
        if (!_panelsAllowed || b.Offsets is not null) return null;
        if (_panels is { } made) return made.Serves(b, k, n) ? made : null;
        lock (_panelsGate)
        {
            // From the decode copy where there is one (what the other decode paths read: bf16 words stay words), else from the values.
            _panels ??= Decode switch
            {
                { IsBf16: true } words => DecodePanels.Create(words.Bf16Words, words.Read(b), k, n, b),
                { } copy => DecodePanels.Create(copy.F32Words, copy.Read(b), k, n, b),
                null => DecodePanels.Create(Pointer, b, k, n, b),
            };
            return _panels.Serves(b, k, n) ? _panels : null;
        }
    }

    /// <summary>Whether a step has made the panels (and no write has dropped them since).</summary>
    internal bool HasPanels => _panels is not null;

    private void DropPanels()
    {
        if (_panels is null) return;   // every upload (a step's feeds too) comes here: no lock where there is nothing to drop
        lock (_panelsGate)
        {
            _panels?.Dispose();
            _panels = null;
        }
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
        Decode?.Dispose();
        Decode = null;
        _panels?.Dispose();
        _panels = null;
    }
}
