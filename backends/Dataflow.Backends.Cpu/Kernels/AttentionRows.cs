using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The row loops around the fused attention kernels' tiles (<see cref="AttentionTiles"/>): a head-width dot product,
/// a row scale, and the copies that lay a slice out for the tiles — transposed (Kᵀ, Vᵀ, a query block's Qᵀ) or
/// padded to whole vectors with zeros, so a tile never reads past what it owns and padding contributes nothing.
/// </summary>
internal static unsafe class AttentionRows
{
    /// <summary>The kernels index rows and slices with ints; a slice's Kᵀ lives in one thread's scratch.</summary>
    public static void CheckSizes(string kernel, long batchHeads, long queries, long keys, long width)
    {
        if (width <= 0 || width > int.MaxValue / 4 || keys * width > int.MaxValue / 4 || batchHeads * queries > int.MaxValue)
            throw new NotSupportedException($"cpu: {kernel} of {batchHeads}x{queries}x{keys}x{width}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* x, float* y, int n)
    {
        int j = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512<float>.Zero;
            for (; j + 16 <= n; j += 16) acc = Vector512.FusedMultiplyAdd(Vector512.Load(x + j), Vector512.Load(y + j), acc);
            sum = Vector512.Sum(acc);
        }
        else if (n >= 8)
        {
            var acc = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8) acc = Vector256.FusedMultiplyAdd(Vector256.Load(x + j), Vector256.Load(y + j), acc);
            sum = Vector256.Sum(acc);
        }
        for (; j < n; j++) sum = MathF.FusedMultiplyAdd(x[j], y[j], sum);
        return sum;
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
    public static void Transpose(float* src, int rows, int columns, long srcStride, float* dst, long dstStride, int paddedRows)
    {
        for (int r = 0; r < rows; r++)
        {
            float* from = src + r * srcStride, to = dst + r;
            for (int c = 0; c < columns; c++) to[c * dstStride] = from[c];
        }
        for (int c = 0; c < columns && paddedRows > rows; c++) new Span<float>(dst + c * dstStride + rows, paddedRows - rows).Clear();
    }

    /// <summary>Rows of <paramref name="width"/> into rows of <paramref name="paddedWidth"/>, then zero rows up to paddedRows.</summary>
    public static void CopyPadded(float* src, int rows, int width, float* dst, int paddedWidth, int paddedRows)
    {
        for (int r = 0; r < rows; r++)
        {
            new ReadOnlySpan<float>(src + (long)r * width, width).CopyTo(new Span<float>(dst + (long)r * paddedWidth, width));
            new Span<float>(dst + (long)r * paddedWidth + width, paddedWidth - width).Clear();
        }
        new Span<float>(dst + (long)rows * paddedWidth, (paddedRows - rows) * paddedWidth).Clear();
    }
}
