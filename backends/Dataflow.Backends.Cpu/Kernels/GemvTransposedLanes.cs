using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Columns of C = A · Bᵀ for a block of up to sixteen rows of A where 512-bit vectors run, each column of
/// B contiguous in k (a batched decode step's projections through their decode copies, and the tied
/// unembedding x · wteᵀ: 16 × 32000 × 288, most of the step's multiply-adds). A is turned once per launch
/// into lanes (<see cref="Transpose"/>: k rows of 16 floats, row i of A in lane i, ~18 KiB for k 288), so
/// a column of B needs no rearranging at all: per k step one vector load of the lanes and one broadcast of
/// each column's weight feed a 16-lane fused multiply-add per column, eight columns at a time in eight
/// accumulators. The strips of <see cref="GemvTransposedPacked"/> instead transpose every column as it
/// streams in, one shuffle per ~3 floats in the loop that reads B from memory: medians of seven, B rotated
/// over four copies so none stays in L3, two threads: 16 × 32000 × 288 (15M's unembedding) 2.2 ms against 2.7,
/// 8 rows 1.8 against 2.2, 16 × 32000 × 768 (110M) 5.0 against 6.7, 16 × 2304 × 768 0.37 against 0.52.
/// Over bf16 words the strips stay (<see cref="Gemv"/>): widening words for the broadcasts cost more than that.
/// </summary>
/// <remarks>
/// Each element is one scalar chain over k in order (lane i of column j's accumulator), the chain the row
/// gets among any other rows of its block. The strips compute that chain too, over bf16 words, for what they
/// cover (blocks of eight rows, whole pairs of 16-column strips), so there a bf16 weight's products match
/// its f32 copy's bit for bit; elsewhere (a 12-row block's last four rows, a task's last columns) the two
/// agree to rounding, as a row alone (one row, 8-wide chains) does.
/// </remarks>
internal static unsafe class GemvTransposedLanes
{
    /// <summary>Rows of A per block: the lanes of one 512-bit vector.</summary>
    public const int Lanes = 16;

    /// <summary>
    /// Rows [0, <paramref name="rows"/>) (at most <see cref="Lanes"/>) of A [.., k] (rows <paramref name="rsA"/>
    /// apart) into <paramref name="into"/>[p·16 + i] = A[i, p], lanes past the rows zero (they add nothing and are never stored).
    /// </summary>
    public static void Transpose(int rows, int k, float* a, long rsA, float* into)
    {
        int whole = k / 8 * 8;
        for (int g = 0; g < Lanes; g += 8)
        {
            int count = Math.Min(8, rows - g);
            for (int p = 0; p < whole; p += 8)
            {
                if (count > 0) Gemm.Transpose8x8(a + g * rsA + p, rsA, count, into + p * Lanes + g, Lanes);
                else for (int q = p; q < p + 8; q++) new Span<float>(into + q * Lanes + g, 8).Clear();
            }
        }
        for (int p = whole; p < k; p++)
            for (int i = 0; i < Lanes; i++) into[p * Lanes + i] = i < rows ? a[i * rsA + p] : 0;
    }

    /// <summary>
    /// C[i, j] for rows i &lt; <paramref name="rows"/> and columns j0 … j0+columns; B column j starts at
    /// b + j·<paramref name="csB"/>, C rows are <paramref name="n"/> apart.
    /// </summary>
    /// <remarks>
    /// The eight columns of a step are an eighth of the task apart, not adjacent: adjacent columns are eight
    /// short runs one column (~1 KiB) apart, which the prefetchers follow badly; columns an eighth apart are
    /// eight long sequential runs, each advancing one column per step.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int rows, long n, int k, float* lanes, float* b, long csB, float* c, int j0, int columns)
    {
        float* tile = stackalloc float[8 * Lanes];
        int eighth = columns / 8;
        for (int s = 0; s < eighth; s++)
        {
            EightColumns(k, lanes, b + (j0 + s) * csB, eighth * csB, csB, tile);
            Store(tile, 8, rows, c + j0 + s, eighth, n);
        }
        for (int j = j0 + 8 * eighth; j < j0 + columns; j++)
        {
            OneColumn(k, lanes, b + j * csB, tile);
            Store(tile, 1, rows, c + j, 0, n);
        }
    }

    /// <summary>The lanes of <paramref name="count"/> columns' accumulators (16 floats each) into C: column q at c + q·apart, row i at + i·ldc.</summary>
    private static void Store(float* tile, int count, int rows, float* c, int apart, long ldc)
    {
        for (int q = 0; q < count; q++)
            for (int i = 0; i < rows; i++) c[q * apart + i * ldc] = tile[q * Lanes + i];
    }

    /// <summary>
    /// Eight columns (<paramref name="apart"/> floats apart) against the lanes: per k step one load of the lanes,
    /// eight broadcasts, eight multiply-adds; every 16 steps a line of each column the next step reads
    /// (<paramref name="next"/> floats on) is prefetched, so the next columns arrive while these multiply.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EightColumns(int k, float* lanes, float* w, long apart, long next, float* tile)
    {
        float* w0 = w, w1 = w + apart, w2 = w + 2 * apart, w3 = w + 3 * apart, w4 = w + 4 * apart, w5 = w + 5 * apart, w6 = w + 6 * apart, w7 = w + 7 * apart;
        Vector512<float> c0 = default, c1 = default, c2 = default, c3 = default, c4 = default, c5 = default, c6 = default, c7 = default;
        for (int p = 0; p < k; p++)
        {
            if (p % 16 == 0)
                for (int q = 0; q < 8; q++) Sse.Prefetch0(w + q * apart + next + p);
            var x = Vector512.Load(lanes + p * Lanes);
            c0 = Vector512.FusedMultiplyAdd(Vector512.Create(w0[p]), x, c0);
            c1 = Vector512.FusedMultiplyAdd(Vector512.Create(w1[p]), x, c1);
            c2 = Vector512.FusedMultiplyAdd(Vector512.Create(w2[p]), x, c2);
            c3 = Vector512.FusedMultiplyAdd(Vector512.Create(w3[p]), x, c3);
            c4 = Vector512.FusedMultiplyAdd(Vector512.Create(w4[p]), x, c4);
            c5 = Vector512.FusedMultiplyAdd(Vector512.Create(w5[p]), x, c5);
            c6 = Vector512.FusedMultiplyAdd(Vector512.Create(w6[p]), x, c6);
            c7 = Vector512.FusedMultiplyAdd(Vector512.Create(w7[p]), x, c7);
        }
        c0.Store(tile); c1.Store(tile + Lanes); c2.Store(tile + 2 * Lanes); c3.Store(tile + 3 * Lanes);
        c4.Store(tile + 4 * Lanes); c5.Store(tile + 5 * Lanes); c6.Store(tile + 6 * Lanes); c7.Store(tile + 7 * Lanes);
    }

    /// <summary>One column (the few past a task's whole eighths).</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneColumn(int k, float* lanes, float* w, float* tile)
    {
        var acc = Vector512<float>.Zero;
        for (int p = 0; p < k; p++) acc = Vector512.FusedMultiplyAdd(Vector512.Create(w[p]), Vector512.Load(lanes + p * Lanes), acc);
        acc.Store(tile);
    }
}
