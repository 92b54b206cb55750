using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Dataflow.Runner.Bench;

/// <summary>
/// The machine's measured single-precision FMA peak: every core runs independent FMA chains of
/// the widest vectors the JIT accelerates (512-bit on AVX-512, twice the 256-bit figure there) (enough of them to hide the FMA latency on both pipes) from registers only. Matmul
/// GFLOP/s are reported as a fraction of this, measured in the same run, so the ratio survives a
/// busy machine better than an absolute number would.
/// </summary>
public static class FmaPeak
{
    private const int Chains = 12;
    private static readonly bool Wide = Vector512.IsHardwareAccelerated && Avx512F.IsSupported;
    private static readonly int FlopsPerIteration = Chains * (Wide ? 16 : 8) * 2;

    /// <summary>The vector width the peak is measured with, in bits.</summary>
    public static int VectorBits => Wide ? 512 : 256;

    /// <summary>GFLOP/s with <paramref name="threads"/> threads each spinning FMA chains; best of a few tries.</summary>
    public static double Measure(int threads, double seconds = 0.2)
    {
        double best = 0;
        for (int attempt = 0; attempt < 3; attempt++) best = Math.Max(best, Once(threads, seconds / 3));
        return best;
    }

    private static double Once(int threads, double seconds)
    {
        // Calibrate the iteration count on this thread so each worker runs about `seconds`.
        long iterations = 1 << 16;
        var clock = Stopwatch.StartNew();
        Run(iterations);
        double perIteration = clock.Elapsed.TotalSeconds / iterations;
        iterations = Math.Max(1 << 16, (long)(seconds / perIteration));

        using var start = new Barrier(threads + 1);
        var workers = new Thread[threads];
        for (int i = 0; i < threads; i++)
        {
            workers[i] = new Thread(() => { start.SignalAndWait(); Run(iterations); }) { IsBackground = true };
            workers[i].Start();
        }
        start.SignalAndWait();
        clock.Restart();
        foreach (var w in workers) w.Join();
        return (double)iterations * FlopsPerIteration * threads / clock.Elapsed.TotalSeconds / 1e9;
    }

    private static float Run(long iterations) => Wide ? Chain512(iterations) : Chain(iterations);

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain512(long iterations)
    {
        var m = Vector512.Create(0.999999f);
        var add = Vector512.Create(1e-7f);
        Vector512<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < iterations; i++)
        {
            a0 = Avx512F.FusedMultiplyAdd(a0, m, add); a1 = Avx512F.FusedMultiplyAdd(a1, m, add);
            a2 = Avx512F.FusedMultiplyAdd(a2, m, add); a3 = Avx512F.FusedMultiplyAdd(a3, m, add);
            a4 = Avx512F.FusedMultiplyAdd(a4, m, add); a5 = Avx512F.FusedMultiplyAdd(a5, m, add);
            a6 = Avx512F.FusedMultiplyAdd(a6, m, add); a7 = Avx512F.FusedMultiplyAdd(a7, m, add);
            a8 = Avx512F.FusedMultiplyAdd(a8, m, add); a9 = Avx512F.FusedMultiplyAdd(a9, m, add);
            a10 = Avx512F.FusedMultiplyAdd(a10, m, add); a11 = Avx512F.FusedMultiplyAdd(a11, m, add);
        }
        var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return Vector512.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static float Chain(long iterations)
    {
        var m = Vector256.Create(0.999999f);
        var add = Vector256.Create(1e-7f);
        Vector256<float> a0 = m, a1 = m, a2 = m, a3 = m, a4 = m, a5 = m, a6 = m, a7 = m, a8 = m, a9 = m, a10 = m, a11 = m;
        for (long i = 0; i < iterations; i++)
        {
            a0 = MulAdd(a0, m, add); a1 = MulAdd(a1, m, add); a2 = MulAdd(a2, m, add); a3 = MulAdd(a3, m, add);
            a4 = MulAdd(a4, m, add); a5 = MulAdd(a5, m, add); a6 = MulAdd(a6, m, add); a7 = MulAdd(a7, m, add);
            a8 = MulAdd(a8, m, add); a9 = MulAdd(a9, m, add); a10 = MulAdd(a10, m, add); a11 = MulAdd(a11, m, add);
        }
        // Use every chain so none is optimised away.
        var sum = a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7 + a8 + a9 + a10 + a11;
        return Vector256.Sum(sum);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> MulAdd(Vector256<float> a, Vector256<float> b, Vector256<float> c) =>
        Fma.IsSupported ? Fma.MultiplyAdd(a, b, c) : a * b + c;
}
