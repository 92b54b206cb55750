using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The inner loops of <see cref="Gemv"/> for a weight stored as bfloat16 (<see cref="CpuBuffer.Bf16Pointer"/>):
/// the same loops as <see cref="GemvRowKernels"/> and Gemv's few-row tiles, summing in the same order, but
/// each vector of the matrix is 8 words widened in registers (<see cref="Bf16.Load8"/>), so a decode step,
/// bound by memory bandwidth, reads half the bytes. Widening is exact, so each result equals, to the bit,
/// the f32 kernel's over the f32 copy of the same weight. Callers check <see cref="IsSupported"/>.
/// </summary>
internal static unsafe class GemvBf16Kernels
{
    /// <summary>AVX2 widens the words; FMA accumulates (without both, the f32 copy is read instead).</summary>
    public static bool IsSupported => Avx2.IsSupported && Fma.IsSupported;

    /// <summary>c [0, w) = Σₚ x[p] · B[p, 0 … w), as <see cref="GemvRowKernels.RowTimesRows"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RowTimesRows(int k, float* x, ushort* b, long rsB, float* c, int w)
    {
        new Span<float>(c, w).Clear();
        int p = 0;
        for (; p + 4 <= k; p += 4)
        {
            ushort* r0 = b + p * rsB, r1 = r0 + rsB, r2 = r1 + rsB, r3 = r2 + rsB;
            float s0 = x[p], s1 = x[p + 1], s2 = x[p + 2], s3 = x[p + 3];
            Vector256<float> x0 = Vector256.Create(s0), x1 = Vector256.Create(s1), x2 = Vector256.Create(s2), x3 = Vector256.Create(s3);
            int j = 0;
            for (; j + 16 <= w; j += 16)
            {
                var acc0 = Vector256.Load(c + j);
                var acc1 = Vector256.Load(c + j + 8);
                acc0 = Fma.MultiplyAdd(x0, Bf16.Load8(r0 + j), acc0);
                acc1 = Fma.MultiplyAdd(x0, Bf16.Load8(r0 + j + 8), acc1);
                acc0 = Fma.MultiplyAdd(x1, Bf16.Load8(r1 + j), acc0);
                acc1 = Fma.MultiplyAdd(x1, Bf16.Load8(r1 + j + 8), acc1);
                acc0 = Fma.MultiplyAdd(x2, Bf16.Load8(r2 + j), acc0);
                acc1 = Fma.MultiplyAdd(x2, Bf16.Load8(r2 + j + 8), acc1);
                acc0 = Fma.MultiplyAdd(x3, Bf16.Load8(r3 + j), acc0);
                acc1 = Fma.MultiplyAdd(x3, Bf16.Load8(r3 + j + 8), acc1);
                acc0.Store(c + j);
                acc1.Store(c + j + 8);
            }
            for (; j + 8 <= w; j += 8)
            {
                var acc = Vector256.Load(c + j);
                acc = Fma.MultiplyAdd(x0, Bf16.Load8(r0 + j), acc);
                acc = Fma.MultiplyAdd(x1, Bf16.Load8(r1 + j), acc);
                acc = Fma.MultiplyAdd(x2, Bf16.Load8(r2 + j), acc);
                acc = Fma.MultiplyAdd(x3, Bf16.Load8(r3 + j), acc);
                acc.Store(c + j);
            }
            for (; j < w; j++)
                c[j] = MathF.FusedMultiplyAdd(s3, Bf16.ToSingle(r3[j]), MathF.FusedMultiplyAdd(s2, Bf16.ToSingle(r2[j]),
                    MathF.FusedMultiplyAdd(s1, Bf16.ToSingle(r1[j]), MathF.FusedMultiplyAdd(s0, Bf16.ToSingle(r0[j]), c[j]))));
        }
        for (; p < k; p++)
        {
            ushort* r = b + p * rsB;
            float s = x[p];
            var xv = Vector256.Create(s);
            int j = 0;
            for (; j + 8 <= w; j += 8) Fma.MultiplyAdd(xv, Bf16.Load8(r + j), Vector256.Load(c + j)).Store(c + j);
            for (; j < w; j++) c[j] = MathF.FusedMultiplyAdd(s, Bf16.ToSingle(r[j]), c[j]);
        }
    }

    /// <summary>x · y over k, y bfloat16, as <see cref="GemvRowKernels.Dot"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static float Dot(int k, float* x, ushort* y)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p + 32 <= k; p += 32)
        {
            s0 = Fma.MultiplyAdd(Vector256.Load(x + p), Bf16.Load8(y + p), s0);
            s1 = Fma.MultiplyAdd(Vector256.Load(x + p + 8), Bf16.Load8(y + p + 8), s1);
            s2 = Fma.MultiplyAdd(Vector256.Load(x + p + 16), Bf16.Load8(y + p + 16), s2);
            s3 = Fma.MultiplyAdd(Vector256.Load(x + p + 24), Bf16.Load8(y + p + 24), s3);
        }
        for (; p + 8 <= k; p += 8) s0 = Fma.MultiplyAdd(Vector256.Load(x + p), Bf16.Load8(y + p), s0);
        float r = Vector256.Sum((s0 + s1) + (s2 + s3));
        for (; p < k; p++) r = MathF.FusedMultiplyAdd(x[p], Bf16.ToSingle(y[p]), r);
        return r;
    }

    /// <summary>A 4 × 16 tile of C from 4 rows of A and a 16-column strip of B, as Gemv's f32 four-row tile.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void FourRows(int k, float* a, long rsA, ushort* b, long rsB, float* c, long ldc)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default, c30 = default, c31 = default;
        float* a0 = a, a1 = a + rsA, a2 = a + 2 * rsA, a3 = a + 3 * rsA;
        for (int p = 0; p < k; p++)
        {
            ushort* row = b + p * rsB;
            var b0 = Bf16.Load8(row);
            var b1 = Bf16.Load8(row + 8);
            var x = Vector256.Create(a0[p]);
            c00 = Fma.MultiplyAdd(x, b0, c00); c01 = Fma.MultiplyAdd(x, b1, c01);
            x = Vector256.Create(a1[p]);
            c10 = Fma.MultiplyAdd(x, b0, c10); c11 = Fma.MultiplyAdd(x, b1, c11);
            x = Vector256.Create(a2[p]);
            c20 = Fma.MultiplyAdd(x, b0, c20); c21 = Fma.MultiplyAdd(x, b1, c21);
            x = Vector256.Create(a3[p]);
            c30 = Fma.MultiplyAdd(x, b0, c30); c31 = Fma.MultiplyAdd(x, b1, c31);
        }
        Avx.Store(c, c00); Avx.Store(c + 8, c01);
        Avx.Store(c + ldc, c10); Avx.Store(c + ldc + 8, c11);
        Avx.Store(c + 2 * ldc, c20); Avx.Store(c + 2 * ldc + 8, c21);
        Avx.Store(c + 3 * ldc, c30); Avx.Store(c + 3 * ldc + 8, c31);
    }

    /// <summary>One row of the tile above.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void OneRow(int k, float* a, ushort* b, long rsB, float* c)
    {
        Vector256<float> c0 = default, c1 = default;
        for (int p = 0; p < k; p++)
        {
            ushort* row = b + p * rsB;
            var x = Vector256.Create(a[p]);
            c0 = Fma.MultiplyAdd(x, Bf16.Load8(row), c0);
            c1 = Fma.MultiplyAdd(x, Bf16.Load8(row + 8), c1);
        }
        Avx.Store(c, c0);
        Avx.Store(c + 8, c1);
    }
}
