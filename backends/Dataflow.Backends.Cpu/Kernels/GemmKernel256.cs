using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The 256-bit micro-kernel (AVX2 + FMA, or any Vector256 machine): a 6×16 tile in twelve ymm
/// accumulators, 2 B loads and 6 broadcasts per k step. The fallback where Vector512 is not accelerated.
/// </summary>
internal static unsafe class GemmKernel256
{
    public const int MR = 6;
    public const int NR = 16;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, bool accumulate)
    {
        GemmPrefetch.Tile(c, ldc, MR, NR);
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(b);
            var b1 = Vector256.Load(b + 8);
            var x = Vector256.Create(a[0]);
            c00 = MulAdd(x, b0, c00); c01 = MulAdd(x, b1, c01);
            x = Vector256.Create(a[1]);
            c10 = MulAdd(x, b0, c10); c11 = MulAdd(x, b1, c11);
            x = Vector256.Create(a[2]);
            c20 = MulAdd(x, b0, c20); c21 = MulAdd(x, b1, c21);
            x = Vector256.Create(a[3]);
            c30 = MulAdd(x, b0, c30); c31 = MulAdd(x, b1, c31);
            x = Vector256.Create(a[4]);
            c40 = MulAdd(x, b0, c40); c41 = MulAdd(x, b1, c41);
            x = Vector256.Create(a[5]);
            c50 = MulAdd(x, b0, c50); c51 = MulAdd(x, b1, c51);
            a += MR;
            b += NR;
        }
        var s = Vector256.Create(alpha);
        Store(c, c00, c01, s, accumulate);
        Store(c + ldc, c10, c11, s, accumulate);
        Store(c + 2 * ldc, c20, c21, s, accumulate);
        Store(c + 3 * ldc, c30, c31, s, accumulate);
        Store(c + 4 * ldc, c40, c41, s, accumulate);
        Store(c + 5 * ldc, c50, c51, s, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector256<float> lo, Vector256<float> hi, Vector256<float> alpha, bool accumulate)
    {
        if (accumulate)
        {
            lo = MulAdd(lo, alpha, Vector256.Load(row));
            hi = MulAdd(hi, alpha, Vector256.Load(row + 8));
        }
        else
        {
            lo *= alpha;
            hi *= alpha;
        }
        lo.Store(row);
        hi.Store(row + 8);
    }
}
