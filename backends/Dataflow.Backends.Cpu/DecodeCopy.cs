using Dataflow.Graph.Tensors;
using Dataflow.Backends.Cpu.Kernels;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// A matrix weight's second copy, the one a decode step's streaming products (<see cref="Gemv"/>) read: its
/// values as bfloat16 words or as f32, for a weight a product reads as x · W laid out column by column
/// (the transpose of its [rows, cols] storage), so that every output is a dot product over a contiguous run
/// of k, the way the tied unembedding x · wteᵀ is already stored. Read that way a row of A keeps its
/// accumulators in registers; over the row-major storage it must load and store a strip of C for every row
/// of W it passes (measured on the 110M shape's qkv [768, 2304], one row: 0.16 ms against 0.38 as stored,
/// f32, and 0.10 against 0.22 as bf16).
/// </summary>
/// <remarks>
/// The copy is exact (a transpose, or the words of values already rounded to bf16), so every kernel sees the
/// same weights; only the order of a sum changes with the layout, which is rounding.
/// </remarks>
internal sealed unsafe class DecodeCopy : IDisposable
{
    private HostBlock _block;
    private void* _words;

    private DecodeCopy(long rows, long cols, bool bf16, bool transposed)
    {
        (Rows, Cols, IsBf16, Transposed) = (rows, cols, bf16, transposed);
        _block = HostBlock.AllocateZeroed((nuint)(rows * cols * (bf16 ? sizeof(ushort) : sizeof(float))));
        _words = _block.Pointer;
    }

    /// <summary>The storage shape the copy was made for.</summary>
    public long Rows { get; }
    public long Cols { get; }

    /// <summary>bf16 words (else f32).</summary>
    public bool IsBf16 { get; }

    /// <summary>Element (r, c) of the [rows, cols] storage is at c·rows + r (else r·cols + c).</summary>
    public bool Transposed { get; }

    public ushort* Bf16Words => IsBf16 ? (ushort*)Words : null;
    public float* F32Words => IsBf16 ? null : (float*)Words;

    private void* Words => _words is not null ? _words : throw new ObjectDisposedException(nameof(DecodeCopy));

    /// <summary>
    /// The copy of the [<paramref name="rows"/>, <paramref name="cols"/>] matrix at <paramref name="values"/>;
    /// bf16 rounds the values in place first (so the f32 values are the words' values).
    /// </summary>
    public static DecodeCopy Create(float* values, long rows, long cols, bool bf16, bool transposed)
    {
        var copy = new DecodeCopy(rows, cols, bf16, transposed);
        copy.Refresh(values, 0, rows * cols);
        return copy;
    }

    /// <summary>After the f32 values in [offset, offset + length) changed: rounds them again (bf16) and copies them.</summary>
    public void Refresh(float* values, long offset, long length)
    {
        var floats = new Span<float>(values + offset, checked((int)length));
        if (!Transposed)
        {
            if (IsBf16) Bf16.Narrow(floats, new Span<ushort>((ushort*)Words + offset, floats.Length));
            else floats.CopyTo(new Span<float>((float*)Words + offset, floats.Length));
            return;
        }
        if (IsBf16)
            for (int i = 0; i < floats.Length; i++) floats[i] = BFloat16.ToSingle(BFloat16.FromSingle(floats[i]));
        // Blocks of 64 × 64, so that the writes down the copy's columns stay in cache.
        const int Block = 64;
        long end = offset + length, firstRow = offset / Cols, endRow = (end + Cols - 1) / Cols;
        for (long r0 = firstRow; r0 < endRow; r0 += Block)
            for (long c0 = 0; c0 < Cols; c0 += Block)
                for (long r = r0; r < Math.Min(endRow, r0 + Block); r++)
                    for (long c = c0; c < Math.Min(Cols, c0 + Block); c++)
                    {
                        long from = r * Cols + c;
                        if (from < offset || from >= end) continue;
                        if (IsBf16) ((ushort*)Words)[c * Rows + r] = BFloat16.FromSingle(values[from]);
                        else ((float*)Words)[c * Rows + r] = values[from];
                    }
    }

    /// <summary>
    /// How a product reads the copy where it reads the storage through <paramref name="storage"/> (strides over the
    /// [rows, cols] storage: cols and 1, in either order): a stride of cols becomes 1, a stride of 1 becomes rows.
    /// </summary>
    public Gemm.Operand Read(in Gemm.Operand storage)
    {
        if (!Transposed) return storage;
        long Map(long stride) => stride == Cols ? 1 : stride == 1 ? Rows : throw new InvalidOperationException($"stride {stride} over a [{Rows}, {Cols}] weight");
        return storage with { RowStride = Map(storage.RowStride), ColStride = Map(storage.ColStride) };
    }

    public void Dispose()
    {
        _block.Free();
        _block = default;
        _words = null;
    }
}
