using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The row loops around the fused attention kernels' tiles (<see cref="AttentionTiles"/>): a row scale, and the copies
/// that lay a slice out for the tiles — transposed (Kᵀ, Vᵀ, a query block's Qᵀ) or padded to whole vectors with zeros, so a tile never reads past what it owns and padding contributes nothing.
/// </summary>
internal static unsafe class AttentionRows
{
    /// <summary>The kernels index rows and slices with ints; a slice's Kᵀ lives in one thread's scratch.</summary>
    public static void CheckSizes(string kernel, long batchHeads, long queries, long keys, long width)
    {
        if (width <= 0 || width > int.MaxValue / 4 || keys * width > int.MaxValue / 4 || batchHeads * queries > int.MaxValue)
            throw new NotSupportedException($"cpu: {kernel} of {batchHeads}x{queries}x{keys}x{width}");
    }

    /// <summary>x *= a.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Scale(float* x, float a, int n)
    {
        int j = 0;
        var v = Vector256.Create(a);
        for (; j + 8 <= n; j += 8) (Vector256.Load(x + j) * v).Store(x + j);
        for (; j < n; j++) x[j] *= a;
    }

    /// <summary>dst[c·dstStride + r] = src[r·srcStride + c] for r &lt; rows, c &lt; columns; zeros for rows up to paddedRows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Transpose(float* src, int rows, int columns, long srcStride, float* dst, long dstStride, int paddedRows)
    {
        // Whole 8×8 blocks in registers (an element at a time, a slice's Kᵀ cost as much as its scores), the edges one by one.
        int fullRows = Avx.IsSupported ? rows / 8 * 8 : 0, fullColumns = Avx.IsSupported ? columns / 8 * 8 : 0;
        for (int r = 0; r < fullRows; r += 8)
            for (int c = 0; c < fullColumns; c += 8) Gemm.Transpose8x8(src + r * srcStride + c, srcStride, 8, dst + c * dstStride + r, dstStride);
        for (int r = 0; r < rows; r++)
        {
            float* from = src + r * srcStride, to = dst + r;
            for (int c = r < fullRows ? fullColumns : 0; c < columns; c++) to[c * dstStride] = from[c];
        }
        for (int c = 0; c < columns && paddedRows > rows; c++) new Span<float>(dst + c * dstStride + rows, paddedRows - rows).Clear();
    }

    /// <summary>Rows of <paramref name="width"/> into rows of <paramref name="paddedWidth"/>, then zero rows up to paddedRows.</summary>
    public static void CopyPadded(float* src, int rows, int width, float* dst, int paddedWidth, int paddedRows)
    {
        if (paddedWidth == width)
        {
            new ReadOnlySpan<float>(src, rows * width).CopyTo(new Span<float>(dst, rows * width));
            new Span<float>(dst + (long)rows * width, (paddedRows - rows) * width).Clear();
            return;
        }
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(src + (long)r * width, width).CopyTo(new Span<float>(dst + (long)r * paddedWidth, width));
            new Span<float>(dst + (long)r * paddedWidth + width, paddedWidth - width).Clear();
        }
        new Span<float>(dst + (long)rows * paddedWidth, (paddedRows - rows) * paddedWidth).Clear();
    }

    /// <summary>The first <paramref name="width"/> floats of each of <paramref name="rows"/> padded rows into packed rows (one copy where nothing is padding).</summary>
    public static void CopyUnpadded(float* src, int paddedWidth, int rows, int width, float* dst)
    {
        if (paddedWidth == width)
        {
            new ReadOnlySpan<float>(src, rows * width).CopyTo(new Span<float>(dst, rows * width));
            return;
        }
        for (int r = 0; r < rows; r++)
            new ReadOnlySpan<float>(src + (long)r * paddedWidth, width).CopyTo(new Span<float>(dst + (long)r * width, width));
    }
}
