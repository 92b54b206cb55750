using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The inner loops of <see cref="Gemv"/> for one row of A: bandwidth-bound, so each reads its part of
/// the matrix once, in long contiguous runs, with enough independent work in flight to keep both the
/// loads and the fused multiply-adds busy. Every sum runs over k in order from zero. Generic over how
/// the matrix is stored (<see cref="F32Words"/>, <see cref="Bf16Words"/>: a bf16 weight reads half the
/// bytes and, widening being exact, gets the bits the f32 loop gets over its rounded copy).
/// </summary>
internal static unsafe class GemvRowKernels
{
    /// <summary>
    /// c [0, w) = Σₚ x[p] · B[p, 0 … w), B rows <paramref name="rsB"/> apart: four rows of B at a time
    /// (four sequential streams), each vector of c loaded and stored once per four rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowTimesRows<T, TWords>(int k, float* x, T* b, long rsB, float* c, int w)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        new Span<float>(c, w).Clear();
        int p = 0;
        for (; p + 4 <= k; p += 4)
        {
            T* r0 = b + p * rsB, r1 = r0 + rsB, r2 = r1 + rsB, r3 = r2 + rsB;
            float s0 = x[p], s1 = x[p + 1], s2 = x[p + 2], s3 = x[p + 3];
            Vector256<float> x0 = Vector256.Create(s0), x1 = Vector256.Create(s1), x2 = Vector256.Create(s2), x3 = Vector256.Create(s3);
            int j = 0;
            for (; j + 16 <= w; j += 16)
            {
                var acc0 = Vector256.Load(c + j);
                var acc1 = Vector256.Load(c + j + 8);
                acc0 = Vector256.FusedMultiplyAdd(x0, TWords.Load8(r0 + j), acc0);
                acc1 = Vector256.FusedMultiplyAdd(x0, TWords.Load8(r0 + j + 8), acc1);
                acc0 = Vector256.FusedMultiplyAdd(x1, TWords.Load8(r1 + j), acc0);
                acc1 = Vector256.FusedMultiplyAdd(x1, TWords.Load8(r1 + j + 8), acc1);
                acc0 = Vector256.FusedMultiplyAdd(x2, TWords.Load8(r2 + j), acc0);
                acc1 = Vector256.FusedMultiplyAdd(x2, TWords.Load8(r2 + j + 8), acc1);
                acc0 = Vector256.FusedMultiplyAdd(x3, TWords.Load8(r3 + j), acc0);
                acc1 = Vector256.FusedMultiplyAdd(x3, TWords.Load8(r3 + j + 8), acc1);
                acc0.Store(c + j);
                acc1.Store(c + j + 8);
            }
            for (; j + 8 <= w; j += 8)
            {
                var acc = Vector256.Load(c + j);
                acc = Vector256.FusedMultiplyAdd(x0, TWords.Load8(r0 + j), acc);
                acc = Vector256.FusedMultiplyAdd(x1, TWords.Load8(r1 + j), acc);
                acc = Vector256.FusedMultiplyAdd(x2, TWords.Load8(r2 + j), acc);
                acc = Vector256.FusedMultiplyAdd(x3, TWords.Load8(r3 + j), acc);
                acc.Store(c + j);
            }
            for (; j < w; j++)
                c[j] = MathF.FusedMultiplyAdd(s3, TWords.ToSingle(r3[j]), MathF.FusedMultiplyAdd(s2, TWords.ToSingle(r2[j]),
                    MathF.FusedMultiplyAdd(s1, TWords.ToSingle(r1[j]), MathF.FusedMultiplyAdd(s0, TWords.ToSingle(r0[j]), c[j]))));
        }
        for (; p < k; p++)
        {
            T* r = b + p * rsB;
            float s = x[p];
            var xv = Vector256.Create(s);
            int j = 0;
            for (; j + 8 <= w; j += 8) Vector256.FusedMultiplyAdd(xv, TWords.Load8(r + j), Vector256.Load(c + j)).Store(c + j);
            for (; j < w; j++) c[j] = MathF.FusedMultiplyAdd(s, TWords.ToSingle(r[j]), c[j]);
        }
    }

    /// <summary>
    /// Four chunks of <see cref="RowTimesRows{T, TWords}"/> at once, each <paramref name="k"/> rows of B into its own
    /// c: chunk i reads x + i·<paramref name="xApart"/> and the rows from b + i·<paramref name="bApart"/>. One row
    /// of each chunk per step, so B is read as four sequential streams far apart; every c[j] is the same chain of
    /// fused multiply-adds over its chunk's rows in order as there, so the same bits.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FourChunksTimesRows<T, TWords>(int k, float* x, long xApart, T* b, long bApart, long rsB, float* c0, float* c1, float* c2, float* c3, int w)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        new Span<float>(c0, w).Clear();
        new Span<float>(c1, w).Clear();
        new Span<float>(c2, w).Clear();
        new Span<float>(c3, w).Clear();
        for (int p = 0; p < k; p++)
        {
            T* r0 = b + p * rsB, r1 = r0 + bApart, r2 = r1 + bApart, r3 = r2 + bApart;
            float s0 = x[p], s1 = x[p + xApart], s2 = x[p + 2 * xApart], s3 = x[p + 3 * xApart];
            Vector256<float> x0 = Vector256.Create(s0), x1 = Vector256.Create(s1), x2 = Vector256.Create(s2), x3 = Vector256.Create(s3);
            int j = 0;
            for (; j + 8 <= w; j += 8)
            {
                Vector256.FusedMultiplyAdd(x0, TWords.Load8(r0 + j), Vector256.Load(c0 + j)).Store(c0 + j);
                Vector256.FusedMultiplyAdd(x1, TWords.Load8(r1 + j), Vector256.Load(c1 + j)).Store(c1 + j);
                Vector256.FusedMultiplyAdd(x2, TWords.Load8(r2 + j), Vector256.Load(c2 + j)).Store(c2 + j);
                Vector256.FusedMultiplyAdd(x3, TWords.Load8(r3 + j), Vector256.Load(c3 + j)).Store(c3 + j);
            }
            for (; j < w; j++)
            {
                c0[j] = MathF.FusedMultiplyAdd(s0, TWords.ToSingle(r0[j]), c0[j]);
                c1[j] = MathF.FusedMultiplyAdd(s1, TWords.ToSingle(r1[j]), c1[j]);
                c2[j] = MathF.FusedMultiplyAdd(s2, TWords.ToSingle(r2[j]), c2[j]);
                c3[j] = MathF.FusedMultiplyAdd(s3, TWords.ToSingle(r3[j]), c3[j]);
            }
        }
    }

    /// <summary>x · y over k: four accumulators 32 floats a step (so the loads, not the adds' latency, set the pace), then 8 at a time, then one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot<T, TWords>(int k, float* x, T* y)
        where T : unmanaged where TWords : IWeightWords<T>
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 32 <= k; p += 32)
        {
            s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), TWords.Load8(y + p), s0);
            s1 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 8), TWords.Load8(y + p + 8), s1);
            s2 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 16), TWords.Load8(y + p + 16), s2);
            s3 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p + 24), TWords.Load8(y + p + 24), s3);
        }
        for (; p + 8 <= k; p += 8) s0 = Vector256.FusedMultiplyAdd(Vector256.Load(x + p), TWords.Load8(y + p), s0);
        float r = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; p < k; p++) r = MathF.FusedMultiplyAdd(x[p], TWords.ToSingle(y[p]), r);
        return r;
    }
}
