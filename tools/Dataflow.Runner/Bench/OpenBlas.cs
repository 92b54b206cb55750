using System.Diagnostics;
using System.Runtime.InteropServices;

namespace Dataflow.Runner.Bench;

/// <summary>
/// OpenBLAS's <c>cblas_sgemm</c>, loaded at run time when the library is installed (Debian's
/// libopenblas0 / libopenblas0-pthread; <c>tools/setup</c> installs it for benchmarks only), as the
/// reference that <c>bench gemm</c> measures in the same process. No build dependency: absent, the
/// benchmark prints "n/a". OpenBLAS picks its kernels when it loads, from the CPU or from
/// OPENBLAS_CORETYPE, so <see cref="CoreName"/> says which ones it is running.
/// </summary>
public sealed unsafe class OpenBlas
{
    private const int RowMajor = 101, NoTrans = 111, Trans = 112;
    private static readonly string[] Names = ["libopenblas.so.0", "libopenblas.so", "libopenblasp.so.0", "/usr/lib/x86_64-linux-gnu/libopenblas.so.0"];

    private readonly delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void> _sgemm;
    private readonly delegate* unmanaged<int, void> _setThreads;

    private OpenBlas(nint library)
    {
        _sgemm = (delegate* unmanaged<int, int, int, int, int, int, float, float*, int, float*, int, float, float*, int, void>)NativeLibrary.GetExport(library, "cblas_sgemm");
        _setThreads = (delegate* unmanaged<int, void>)NativeLibrary.GetExport(library, "openblas_set_num_threads");
        CoreName = NativeLibrary.TryGetExport(library, "openblas_get_corename", out var corename)
            ? Marshal.PtrToStringAnsi((nint)((delegate* unmanaged<byte*>)corename)()) ?? "?"
            : "?";
    }

    private void Call(int batch, int m, int n, int k, bool transposeA, bool transposeB, float* a, float* b, float* c)
    {
        for (int i = 0; i < batch; i++)
            _sgemm(RowMajor, transposeA ? Trans : NoTrans, transposeB ? Trans : NoTrans, m, n, k, 1f,
                a + (long)i * m * k, transposeA ? m : k, b + (long)i * k * n, transposeB ? k : n, 0f, c + (long)i * m * n, n);
    }

    /// <summary>The kernel family OpenBLAS chose (e.g. "Cooperlake", or "Haswell" when pinned by OPENBLAS_CORETYPE).</summary>
    public string CoreName { get; }

    /// <summary>The library, or null when no OpenBLAS with the CBLAS interface is installed.</summary>
    public static OpenBlas? TryLoad()
    {
        foreach (var name in Names)
            if (NativeLibrary.TryLoad(name, out var library))
            {
                if (NativeLibrary.TryGetExport(library, "cblas_sgemm", out _) && NativeLibrary.TryGetExport(library, "openblas_set_num_threads", out _))
                    return new OpenBlas(library);
                NativeLibrary.Free(library);
            }
        return null;
    }

    /// <summary>
    /// GFLOP/s of the same product as <see cref="Dataflow.Backends.Cpu.CpuMatMulCase"/> (row-major,
    /// A stored [K,M] when transposed, B [N,K]; batches one call each), timed the same way: one
    /// warm-up, then calls for at least <paramref name="minSeconds"/>, best time. Returns C too.
    /// </summary>
    public double Measure(int batch, int m, int n, int k, bool transposeA, bool transposeB, float[] a, float[] b, int threads, double minSeconds, out float[] c)
    {
        _setThreads(threads);
        c = new float[(long)batch * m * n];
        double best = double.MaxValue, total = 0;
        fixed (float* pa = a, pb = b, pc = c)
        {
            Call(batch, m, n, k, transposeA, transposeB, pa, pb, pc);
            for (int runs = 0; total < minSeconds || runs < 3; runs++)
            {
                long start = Stopwatch.GetTimestamp();
                Call(batch, m, n, k, transposeA, transposeB, pa, pb, pc);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                best = Math.Min(best, seconds);
                total += seconds;
            }
        }
        return 2.0 * batch * m * n * k / best / 1e9;
    }
}
