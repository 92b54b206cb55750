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
    /// GFLOP/s of C[batch,M,N] = A[batch,M,K] · B[batch,K,N] through the public backend API: one
    /// warm-up launch, then launches for at least <paramref name="minSeconds"/>, reporting the best
    /// time (least disturbed). A batch of 1 is a plain 2-D matmul.
    /// </summary>
    public static double Run(int m, int n, int k, double minSeconds = 0.5, bool transposeA = false, bool transposeB = false, int batch = 1)
    {
        using var backend = new CpuBackend();
        long[] Shape(int rows, int cols) => batch == 1 ? [rows, cols] : [batch, rows, cols];
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeA = transposeA, TransposeB = transposeB },
            [new TensorDesc(DType.F32, transposeA ? Shape(k, m) : Shape(m, k)), new TensorDesc(DType.F32, transposeB ? Shape(n, k) : Shape(k, n))],
            new TensorDesc(DType.F32, Shape(m, n)));
        var kernel = backend.Compile(spec);
        using var a = backend.Allocate((long)batch * m * k);
        using var b = backend.Allocate((long)batch * k * n);
        using var c = backend.Allocate((long)batch * m * n);
        var random = new Random(1);
        backend.Upload(a, Enumerable.Range(0, batch * m * k).Select(_ => random.NextSingle() - 0.5f).ToArray());
        backend.Upload(b, Enumerable.Range(0, batch * k * n).Select(_ => random.NextSingle() - 0.5f).ToArray());
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
        return 2.0 * batch * m * n * k / best / 1e9;
    }
}
