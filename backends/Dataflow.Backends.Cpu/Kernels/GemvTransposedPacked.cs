using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Columns of C = A · Bᵀ for blocks of eight rows of A where 512-bit vectors run, each column of B
/// contiguous in k (a batched decode step's tied unembedding, x · wteᵀ: 16 × 32000 × 288, most of the
/// step's multiply-adds). A task's columns are first transposed into strips of 16 columns (k rows of
/// 16 floats, as <see cref="Gemv"/> packs a row-major B), then <see cref="Gemv.EightRowsTwoStrips"/>
/// keeps 8 rows × 32 columns of C in registers: per k step two vector loads and eight broadcasts feed
/// sixteen 16-lane fused multiply-adds, with no shuffle and no horizontal sum. The per-column tiles
/// (<see cref="GemvTransposedTiles"/>) spend about as many shuffles and horizontal sums as multiply-adds
/// on this shape (~128 GFLOP/s measured); the transposes here cost one shuffle per ~3 floats, once per
/// column, not once per row block.
/// </summary>
/// <remarks>
/// Each element is one scalar chain over k in order (the strips' lane j is column j), so it is not the
/// 8-wide chain a single row gets from <see cref="GemvTransposedTiles"/>: a row among eight or more differs
/// from that row alone by rounding only (well within 1e-5 relative for decode shapes; the tests check it).
/// </remarks>
internal static unsafe class GemvTransposedPacked
{
    private const int PairWidth = 2 * Gemv.StripWidth;

    /// <summary>
    /// C[i, j] for rows i &lt; <paramref name="rows"/> (a multiple of 8) and the first whole pairs of strips of
    /// columns j0 … j0+columns; B column j starts at b + j·<paramref name="csB"/>, C rows are <paramref name="n"/> apart.
    /// Returns how many columns it did (a multiple of 32); the caller takes the rest.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static int Run<T, TWords>(int rows, long n, int k, float* a, long rsA, T* b, long csB, float* c, int j0, int columns)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        int whole = columns / PairWidth * PairWidth;
        if (whole == 0) return 0;
        long stripFloats = (long)k * Gemv.StripWidth;
        float* packed = Scratch.ThreadLocal(Scratch.PackB, whole * stripFloats / Gemv.StripWidth);
        for (int q = 0; q < whole; q += PairWidth)
        {
            // Eight adjacent columns at a time: one contiguous run of 8·csB floats, read as eight streams in step.
            for (int g = q; g < q + PairWidth; g += 8)
                TransposeEight<T, TWords>(k, b + (j0 + g) * csB, csB, packed + g / Gemv.StripWidth * stripFloats + g % Gemv.StripWidth);
            // While this pair's products run, the next 32 columns (this task's, or likely the next task's) come in:
            // each block of eight rows prefetches 16 of them, a line per k step.
            byte* next = (byte*)(b + (j0 + q + PairWidth) * csB);
            float* s0 = packed + q / Gemv.StripWidth * stripFloats;
            for (int i = 0; i < rows; i += 8)
                Gemv.EightRowsTwoStrips(k, a + i * rsA, rsA, s0, s0 + stripFloats, c + i * n + j0 + q, n, next + i / 8 * Gemv.StripWidth * csB * sizeof(T), sizeof(T) * Gemv.StripWidth);
        }
        return whole;
    }

    /// <summary>
    /// Eight columns of B (k floats each, <paramref name="csB"/> apart) into lanes 0–7 of a strip's k rows of 16
    /// (<paramref name="into"/> points at the first row's lane). While it reads, it prefetches the next eight
    /// columns (the same run length, immediately after when columns are contiguous, csB = k): the eight
    /// short streams of one group are too short for the hardware prefetchers to get ahead of.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeEight<T, TWords>(int k, T* w, long csB, float* into)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        T* next = w + 8 * csB;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            // 8·k words ahead in k / 8 steps: 64 words (four lines of f32, two of bf16) a step.
            byte* ahead = (byte*)(next + 8 * p);
            for (int line = 0; line < 64 * sizeof(T); line += 64) Sse.Prefetch0(ahead + line);
            Gemm.Transpose8x8<T, TWords>(w + p, csB, 8, into + p * Gemv.StripWidth, Gemv.StripWidth);
        }
        for (; p < k; p++)
            for (int r = 0; r < 8; r++)
                into[p * Gemv.StripWidth + r] = TWords.ToSingle(w[r * csB + p]);
    }
}
