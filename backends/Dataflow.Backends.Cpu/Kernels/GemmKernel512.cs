using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// The AVX-512 micro-kernel: a 12×32 tile of C in 24 zmm accumulators; per k step 2 loads of B,
/// 12 broadcasts of A and 24 FMAs. 24 independent chains cover the FMA latency (4 cycles) on both
/// 512-bit pipes with room to spare, and leave 8 of the 32 zmm registers for B and the broadcasts,
/// so nothing spills. Wider in M than N because the broadcasts are cheap loads and the B loads are
/// what the L1 has to serve. Written with portable Vector512 calls, so where Vector512 is not
/// accelerated it still runs (in software, slowly): the tests check it on any machine.
/// </summary>
internal static unsafe class GemmKernel512
{
    public const int MR = 12;
    public const int NR = 32;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(int kc, float* a, float* b, float* c, long ldc, float alpha, bool accumulate)
    {
        GemmPrefetch.Tile(c, ldc, MR, NR);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default, c80 = default, c81 = default;
        Vector512<float> c90 = default, c91 = default, c100 = default, c101 = default, c110 = default, c111 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            x = Vector512.Create(a[8]);
            c80 = Vector512.FusedMultiplyAdd(x, b0, c80); c81 = Vector512.FusedMultiplyAdd(x, b1, c81);
            x = Vector512.Create(a[9]);
            c90 = Vector512.FusedMultiplyAdd(x, b0, c90); c91 = Vector512.FusedMultiplyAdd(x, b1, c91);
            x = Vector512.Create(a[10]);
            c100 = Vector512.FusedMultiplyAdd(x, b0, c100); c101 = Vector512.FusedMultiplyAdd(x, b1, c101);
            x = Vector512.Create(a[11]);
            c110 = Vector512.FusedMultiplyAdd(x, b0, c110); c111 = Vector512.FusedMultiplyAdd(x, b1, c111);
            a += MR;
            b += NR;
        }
        var s = Vector512.Create(alpha);
        Store(c + 0 * ldc, c00, c01, s, accumulate);
        Store(c + 1 * ldc, c10, c11, s, accumulate);
        Store(c + 2 * ldc, c20, c21, s, accumulate);
        Store(c + 3 * ldc, c30, c31, s, accumulate);
        Store(c + 4 * ldc, c40, c41, s, accumulate);
        Store(c + 5 * ldc, c50, c51, s, accumulate);
        Store(c + 6 * ldc, c60, c61, s, accumulate);
        Store(c + 7 * ldc, c70, c71, s, accumulate);
        Store(c + 8 * ldc, c80, c81, s, accumulate);
        Store(c + 9 * ldc, c90, c91, s, accumulate);
        Store(c + 10 * ldc, c100, c101, s, accumulate);
        Store(c + 11 * ldc, c110, c111, s, accumulate);
    }

    /// <summary>Rows of the few-rows tile (<see cref="RunEightRows"/>).</summary>
    public const int FewMR = 8;

    /// <summary>
    /// An 8×32 tile in 16 accumulators, for products of 9–64 rows (<see cref="GemmFewRows"/>: a batched decode step, a prompt's prefill),
    /// where twelve-row tiles would leave a third of sixteen rows' products padding. Sixteen chains still cover the
    /// FMA latency on both pipes. Each element is the chain <see cref="Run"/> computes, p in order from zero.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void RunEightRows(int kc, float* a, float* b, float* c, long ldc, float alpha, bool accumulate)
    {
        GemmPrefetch.Tile(c, ldc, FewMR, NR);
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        Vector512<float> c60 = default, c61 = default, c70 = default, c71 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(b);
            var b1 = Vector512.Load(b + 16);
            var x = Vector512.Create(a[0]);
            c00 = Vector512.FusedMultiplyAdd(x, b0, c00); c01 = Vector512.FusedMultiplyAdd(x, b1, c01);
            x = Vector512.Create(a[1]);
            c10 = Vector512.FusedMultiplyAdd(x, b0, c10); c11 = Vector512.FusedMultiplyAdd(x, b1, c11);
            x = Vector512.Create(a[2]);
            c20 = Vector512.FusedMultiplyAdd(x, b0, c20); c21 = Vector512.FusedMultiplyAdd(x, b1, c21);
            x = Vector512.Create(a[3]);
            c30 = Vector512.FusedMultiplyAdd(x, b0, c30); c31 = Vector512.FusedMultiplyAdd(x, b1, c31);
            x = Vector512.Create(a[4]);
            c40 = Vector512.FusedMultiplyAdd(x, b0, c40); c41 = Vector512.FusedMultiplyAdd(x, b1, c41);
            x = Vector512.Create(a[5]);
            c50 = Vector512.FusedMultiplyAdd(x, b0, c50); c51 = Vector512.FusedMultiplyAdd(x, b1, c51);
            x = Vector512.Create(a[6]);
            c60 = Vector512.FusedMultiplyAdd(x, b0, c60); c61 = Vector512.FusedMultiplyAdd(x, b1, c61);
            x = Vector512.Create(a[7]);
            c70 = Vector512.FusedMultiplyAdd(x, b0, c70); c71 = Vector512.FusedMultiplyAdd(x, b1, c71);
            a += FewMR;
            b += NR;
        }
        var s = Vector512.Create(alpha);
        Store(c + 0 * ldc, c00, c01, s, accumulate);
        Store(c + 1 * ldc, c10, c11, s, accumulate);
        Store(c + 2 * ldc, c20, c21, s, accumulate);
        Store(c + 3 * ldc, c30, c31, s, accumulate);
        Store(c + 4 * ldc, c40, c41, s, accumulate);
        Store(c + 5 * ldc, c50, c51, s, accumulate);
        Store(c + 6 * ldc, c60, c61, s, accumulate);
        Store(c + 7 * ldc, c70, c71, s, accumulate);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* row, Vector512<float> lo, Vector512<float> hi, Vector512<float> alpha, bool accumulate)
    {
        if (accumulate)
        {
            lo = Vector512.FusedMultiplyAdd(lo, alpha, Vector512.Load(row));
            hi = Vector512.FusedMultiplyAdd(hi, alpha, Vector512.Load(row + 16));
        }
        else
        {
            lo *= alpha;
            hi *= alpha;
        }
        lo.Store(row);
        hi.Store(row + 16);
    }
}
