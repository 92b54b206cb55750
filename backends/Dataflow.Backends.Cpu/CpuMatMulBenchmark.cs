using System.Collections.Immutable;
using System.Diagnostics;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Cpu;

/// <summary>Matmul throughput of the CPU backend, for the runner's <c>bench</c> verb.</summary>
public static class CpuMatMulBenchmark
{
    /// <summary>
    /// GFLOP/s of C[M,N] = A[M,K] · B[K,N] through the public backend API: one warm-up launch, then
    /// launches for at least <paramref name="minSeconds"/>, reporting the best time (least disturbed).
    /// </summary>
    public static double Run(int m, int n, int k, double minSeconds = 0.5, bool transposeA = false, bool transposeB = false)
    {
        using var backend = new CpuBackend();
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeA = transposeA, TransposeB = transposeB },
            [new TensorDesc(DType.F32, transposeA ? [k, m] : [m, k]), new TensorDesc(DType.F32, transposeB ? [n, k] : [k, n])],
            new TensorDesc(DType.F32, [m, n]));
        var kernel = backend.Compile(spec);
        using var a = backend.Allocate((long)m * k);
        using var b = backend.Allocate((long)k * n);
        using var c = backend.Allocate((long)m * n);
        var random = new Random(1);
        backend.Upload(a, Enumerable.Range(0, m * k).Select(_ => random.NextSingle() - 0.5f).ToArray());
        backend.Upload(b, Enumerable.Range(0, k * n).Select(_ => random.NextSingle() - 0.5f).ToArray());
        IDeviceBuffer[] buffers = [a, b, c];

        backend.Enqueue(kernel, buffers, LaunchParams.None);
        double best = double.MaxValue, total = 0;
        int runs = 0;
        while (total < minSeconds || runs < 3)
        {
            long start = Stopwatch.GetTimestamp();
            backend.Enqueue(kernel, buffers, LaunchParams.None);
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            best = Math.Min(best, seconds);
            total += seconds;
            runs++;
        }
        return 2.0 * m * n * k / best / 1e9;
    }
}
