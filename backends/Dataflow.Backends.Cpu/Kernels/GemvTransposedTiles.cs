using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// Columns of C [m, n] = A [m, k] · Bᵀ for few rows of A, each column of B contiguous in k (a tied
/// unembedding, x · wteᵀ, is most of a batched decode step's multiply-adds), register-tiled: four rows
/// of A against two columns of B at a time (one row: four columns; with 512-bit vectors, eight rows
/// against four columns, two per vector), eight (sixteen) independent accumulators, so the fused multiply-adds
/// (not the loads, nor one dot product's add latency) set the pace and each column, streamed once from
/// memory, is used by every row while it is in L1.
/// </summary>
/// <remarks>
/// Every element of these tiles is one chain whatever the tile it falls in: one 8-wide accumulator over k
/// in order, its horizontal sum, then the scalar tail in order. So without 512-bit vectors a row gets the
/// same bits alone (a batch-1 decode step, one row against four columns) as among sixteen; with them, blocks
/// of eight rows of bf16 words go through <see cref="GemvTransposedPacked"/>, and 8 to 16 rows over f32 columns
/// never come here (<see cref="Gemv"/> gives them to <see cref="GemvTransposedLanes"/>): both are a scalar chain
/// over k per element, and agree with the row alone to rounding.
/// Generic over how a weight is stored (<see cref="F32Words"/>, <see cref="Bf16Words"/>: widening is exact),
/// so a bf16 weight gets the same bits as the f32 kernel over its rounded f32 copy.
/// </remarks>
internal static unsafe class GemvTransposedTiles
{
    /// <summary>C[i, j] for every row i and columns j0 … j0+columns; B column j starts at b + j·<paramref name="csB"/>, C rows are <paramref name="n"/> apart.</summary>
    /// <remarks>
    /// The columns a tile takes together are far apart: a four-row tile takes columns j and j + columns/2, a
    /// single row j, j + columns/4, j + columns/2 and j + 3·columns/4. Adjacent columns would be a few short
    /// runs one column (~1 KiB) apart, which the prefetchers follow badly; columns a quarter or half of the
    /// task apart are two or four long sequential runs, read about four times as fast (measured on the
    /// 32000 × 288 unembedding, batch 1 and 16). Which columns share a tile does not change any sum.
    /// </remarks>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, TWords>(int m, long n, int k, float* a, long rsA, T* b, long csB, float* c, int j0, int columns)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        int end = j0 + columns;
        // Where 512-bit vectors run: blocks of eight rows through transposed strips (GemvTransposedPacked), the
        // columns past its whole pairs of strips against four columns a quarter apart (two columns per vector).
        // bf16 words are widened as they are transposed: memory is read as words, the strips (in L1/L2) as f32.
        int wide = Vector512.IsHardwareAccelerated ? m / 8 * 8 : 0;
        if (wide > 0)
        {
            int packed = GemvTransposedPacked.Run<T, TWords>(wide, n, k, a, rsA, b, csB, c, j0, columns);
            int first = j0 + packed, restQuarter = (end - first) / 4;
            for (int j = first; j < first + restQuarter; j++)
                for (int i = 0; i < wide; i += 8)
                    EightByFour<T, TWords>(k, a + i * rsA, rsA, b + j * csB, restQuarter * csB, c + i * n + j, n, restQuarter);
            for (int j = first + 4 * restQuarter; j < end; j++)
                for (int i = 0; i < wide; i++) c[i * n + j] = One<T, TWords>(k, a + i * rsA, b + j * csB);
        }
        int blocked = wide + (m - wide) / 4 * 4;
        if (blocked > wide)
        {
            int half = columns / 2, j = j0;
            for (; j < j0 + half; j++)
                for (int i = wide; i < blocked; i += 4)
                    FourByTwo<T, TWords>(k, a + i * rsA, rsA, b + j * csB, b + (j + half) * csB, c + i * n + j, n, half);
            for (j = j0 + 2 * half; j < end; j++)
                for (int i = wide; i < blocked; i++) c[i * n + j] = One<T, TWords>(k, a + i * rsA, b + j * csB);
        }
        // Rows past the last block of four (all of them for a single row): four columns at a time.
        for (int i = blocked; i < m; i++)
        {
            float* row = a + i * rsA, into = c + i * n;
            int quarter = columns / 4;
            for (int jj = j0; jj < j0 + quarter; jj++) OneByFour<T, TWords>(k, row, b + jj * csB, quarter * csB, into + jj, quarter);
            for (int jj = j0 + 4 * quarter; jj < end; jj++) into[jj] = One<T, TWords>(k, row, b + jj * csB);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void FourByTwo<T, TWords>(int k, float* a, long rsA, T* w0, T* w1, float* c, long ldc, int apart)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        float* a0 = a, a1 = a + rsA, a2 = a + 2 * rsA, a3 = a + 3 * rsA;
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            var y0 = TWords.Load8(w0 + p);
            var y1 = TWords.Load8(w1 + p);
            var x = Vector256.Load(a0 + p);
            c00 = Vector256.FusedMultiplyAdd(x, y0, c00); c01 = Vector256.FusedMultiplyAdd(x, y1, c01);
            x = Vector256.Load(a1 + p);
            c10 = Vector256.FusedMultiplyAdd(x, y0, c10); c11 = Vector256.FusedMultiplyAdd(x, y1, c11);
            x = Vector256.Load(a2 + p);
            c20 = Vector256.FusedMultiplyAdd(x, y0, c20); c21 = Vector256.FusedMultiplyAdd(x, y1, c21);
            x = Vector256.Load(a3 + p);
            c30 = Vector256.FusedMultiplyAdd(x, y0, c30); c31 = Vector256.FusedMultiplyAdd(x, y1, c31);
        }
        (c[0], c[apart]) = (Tail<T, TWords>(k, p, a0, w0, c00), Tail<T, TWords>(k, p, a0, w1, c01));
        (c[ldc], c[ldc + apart]) = (Tail<T, TWords>(k, p, a1, w0, c10), Tail<T, TWords>(k, p, a1, w1, c11));
        (c[2 * ldc], c[2 * ldc + apart]) = (Tail<T, TWords>(k, p, a2, w0, c20), Tail<T, TWords>(k, p, a2, w1, c21));
        (c[3 * ldc], c[3 * ldc + apart]) = (Tail<T, TWords>(k, p, a3, w0, c30), Tail<T, TWords>(k, p, a3, w1, c31));
    }

    /// <summary>
    /// Eight rows of A against columns w, w + csB, w + 2·csB, w + 3·csB (C columns <paramref name="apart"/> apart
    /// likewise): each 512-bit accumulator holds two columns' 8-wide chains side by side (lower half the first),
    /// so a step is 16 fused multiply-adds of 16 lanes for 2 column loads and 8 row broadcasts, twice the
    /// multiply-adds per instruction of <see cref="FourByTwo{T, TWords}"/>, and each chain is the one every other tile computes.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void EightByFour<T, TWords>(int k, float* a, long rsA, T* w, long csB, float* c, long ldc, int apart)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        T* w0 = w, w1 = w + csB, w2 = w + 2 * csB, w3 = w + 3 * csB;
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        Vector512<float> c40 = default, c41 = default, c50 = default, c51 = default, c60 = default, c61 = default, c70 = default, c71 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            var y0 = Vector512.Create(TWords.Load8(w0 + p), TWords.Load8(w1 + p));
            var y1 = Vector512.Create(TWords.Load8(w2 + p), TWords.Load8(w3 + p));
            float* ap = a + p;
            var x = Row(ap);
            c00 = Vector512.FusedMultiplyAdd(x, y0, c00); c01 = Vector512.FusedMultiplyAdd(x, y1, c01);
            x = Row(ap + rsA);
            c10 = Vector512.FusedMultiplyAdd(x, y0, c10); c11 = Vector512.FusedMultiplyAdd(x, y1, c11);
            x = Row(ap + 2 * rsA);
            c20 = Vector512.FusedMultiplyAdd(x, y0, c20); c21 = Vector512.FusedMultiplyAdd(x, y1, c21);
            x = Row(ap + 3 * rsA);
            c30 = Vector512.FusedMultiplyAdd(x, y0, c30); c31 = Vector512.FusedMultiplyAdd(x, y1, c31);
            x = Row(ap + 4 * rsA);
            c40 = Vector512.FusedMultiplyAdd(x, y0, c40); c41 = Vector512.FusedMultiplyAdd(x, y1, c41);
            x = Row(ap + 5 * rsA);
            c50 = Vector512.FusedMultiplyAdd(x, y0, c50); c51 = Vector512.FusedMultiplyAdd(x, y1, c51);
            x = Row(ap + 6 * rsA);
            c60 = Vector512.FusedMultiplyAdd(x, y0, c60); c61 = Vector512.FusedMultiplyAdd(x, y1, c61);
            x = Row(ap + 7 * rsA);
            c70 = Vector512.FusedMultiplyAdd(x, y0, c70); c71 = Vector512.FusedMultiplyAdd(x, y1, c71);
        }
        Finish<T, TWords>(k, p, a, w0, w1, w2, w3, c00, c01, c, apart);
        Finish<T, TWords>(k, p, a + rsA, w0, w1, w2, w3, c10, c11, c + ldc, apart);
        Finish<T, TWords>(k, p, a + 2 * rsA, w0, w1, w2, w3, c20, c21, c + 2 * ldc, apart);
        Finish<T, TWords>(k, p, a + 3 * rsA, w0, w1, w2, w3, c30, c31, c + 3 * ldc, apart);
        Finish<T, TWords>(k, p, a + 4 * rsA, w0, w1, w2, w3, c40, c41, c + 4 * ldc, apart);
        Finish<T, TWords>(k, p, a + 5 * rsA, w0, w1, w2, w3, c50, c51, c + 5 * ldc, apart);
        Finish<T, TWords>(k, p, a + 6 * rsA, w0, w1, w2, w3, c60, c61, c + 6 * ldc, apart);
        Finish<T, TWords>(k, p, a + 7 * rsA, w0, w1, w2, w3, c70, c71, c + 7 * ldc, apart);
    }

    /// <summary>Eight consecutive elements of a row of A in both halves of a vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row(float* x)
    {
        var half = Vector256.Load(x);
        return Vector512.Create(half, half);
    }

    /// <summary>One row's four columns of an <see cref="EightByFour{T, TWords}"/> tile: each half's chain ended by <see cref="Tail{T, TWords}"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Finish<T, TWords>(int k, int p, float* x, T* w0, T* w1, T* w2, T* w3, Vector512<float> first, Vector512<float> second, float* c, int apart)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        c[0] = Tail<T, TWords>(k, p, x, w0, first.GetLower());
        c[apart] = Tail<T, TWords>(k, p, x, w1, first.GetUpper());
        c[2 * apart] = Tail<T, TWords>(k, p, x, w2, second.GetLower());
        c[3 * apart] = Tail<T, TWords>(k, p, x, w3, second.GetUpper());
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void OneByFour<T, TWords>(int k, float* x, T* w, long csB, float* c, int apart)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        T* w0 = w, w1 = w + csB, w2 = w + 2 * csB, w3 = w + 3 * csB;
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 8 <= k; p += 8)
        {
            var xv = Vector256.Load(x + p);
            s0 = Vector256.FusedMultiplyAdd(xv, TWords.Load8(w0 + p), s0);
            s1 = Vector256.FusedMultiplyAdd(xv, TWords.Load8(w1 + p), s1);
            s2 = Vector256.FusedMultiplyAdd(xv, TWords.Load8(w2 + p), s2);
            s3 = Vector256.FusedMultiplyAdd(xv, TWords.Load8(w3 + p), s3);
        }
        (c[0], c[apart], c[2 * apart], c[3 * apart]) = (Tail<T, TWords>(k, p, x, w0, s0), Tail<T, TWords>(k, p, x, w1, s1), Tail<T, TWords>(k, p, x, w2, s2), Tail<T, TWords>(k, p, x, w3, s3));
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static float One<T, TWords>(int k, float* x, T* w)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        var s = Vector256<float>.Zero;
        int p = 0;
        for (; p + 8 <= k; p += 8) s = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), TWords.Load8(w + p), s);
        return Tail<T, TWords>(k, p, x, w, s);
    }

    /// <summary>The chain's end, the same for every tile: the accumulator's horizontal sum, then p … k−1 in order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Tail<T, TWords>(int k, int p, float* x, T* w, Vector256<float> acc)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        float sum = Vector256.Sum(acc);
        for (; p < k; p++) sum = MathF.FusedMultiplyAdd(x[p], TWords.ToSingle(w[p]), sum);
        return sum;
    }
}
