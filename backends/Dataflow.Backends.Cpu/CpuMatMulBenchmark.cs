using System.Diagnostics;
using Dataflow.Backends.Cpu.Kernels;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Jobs;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Backends.Cpu;

/// <summary>Matmul throughput of the CPU backend, for the runner's <c>bench</c> verb.</summary>
public static class CpuMatMulBenchmark
{
    /// <summary>The micro-kernel this CPU's matmuls run (e.g. "avx512 12x32").</summary>
    public static string KernelName => GemmMicroKernel.Best.Name;

    /// <summary>GFLOP/s of one shape on all worker threads; see <see cref="CpuMatMulCase.Measure"/>.</summary>
    public static double Run(int m, int n, int k, double minSeconds = 0.5, bool transposeA = false, bool transposeB = false, int batch = 1)
    {
        using var matmul = new CpuMatMulCase(m, n, k, transposeA, transposeB, batch);
        return matmul.Measure(JobSystem.Shared.WorkerCount, minSeconds);
    }
}

/// <summary>
/// C[batch,M,N] = A[batch,M,K] · B[batch,K,N] (A stored [K,M] when transposed, B [N,K]) compiled
/// through the public backend API on random inputs, kept so it can be timed at several thread
/// counts and its inputs handed to a reference library. A batch of 1 is a plain 2-D matmul.
/// </summary>
public sealed class CpuMatMulCase : IDisposable
{
    private readonly CpuBackend _backend = new();
    private readonly ICompiledKernel _kernel;
    private readonly IDeviceBuffer[] _buffers;
    private readonly long _flops;

    public CpuMatMulCase(int m, int n, int k, bool transposeA = false, bool transposeB = false, int batch = 1, int seed = 1)
    {
        long[] Shape(int rows, int cols) => batch == 1 ? [rows, cols] : [batch, rows, cols];
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeA = transposeA, TransposeB = transposeB },
            [new TensorDesc(DType.F32, transposeA ? Shape(k, m) : Shape(m, k)), new TensorDesc(DType.F32, transposeB ? Shape(n, k) : Shape(k, n))],
            new TensorDesc(DType.F32, Shape(m, n)));
        _kernel = _backend.Compile(spec);
        var random = new Random(seed);
        A = Fill(new float[(long)batch * m * k], random);
        B = Fill(new float[(long)batch * k * n], random);
        _buffers = [_backend.Allocate(A.Length), _backend.Allocate(B.Length), _backend.Allocate((long)batch * m * n)];
        _backend.Upload(_buffers[0], A);
        _backend.Upload(_buffers[1], B);
        _flops = 2L * batch * m * n * k;
    }

    /// <summary>The inputs as uploaded, in their stored layout.</summary>
    public float[] A { get; }
    public float[] B { get; }

    /// <summary>
    /// GFLOP/s on <paramref name="threads"/> threads (1, or the job system's worker count): one
    /// warm-up launch, then launches for at least <paramref name="minSeconds"/> (and at least three),
    /// reporting the best time (least disturbed).
    /// </summary>
    public double Measure(int threads, double minSeconds)
    {
        if (threads != 1 && threads != JobSystem.Shared.WorkerCount)
            throw new ArgumentOutOfRangeException(nameof(threads), threads, $"1 or the worker count ({JobSystem.Shared.WorkerCount})");
        double best = double.MaxValue;
        void Time()
        {
            _backend.Enqueue(_kernel, _buffers, LaunchParams.None);
            double total = 0;
            for (int runs = 0; total < minSeconds || runs < 3; runs++)
            {
                long start = Stopwatch.GetTimestamp();
                _backend.Enqueue(_kernel, _buffers, LaunchParams.None);
                double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
                best = Math.Min(best, seconds);
                total += seconds;
            }
        }
        if (threads == 1) Par.Serial(Time);
        else Time();
        return _flops / best / 1e9;
    }

    /// <summary>C of the last launch.</summary>
    public float[] Result()
    {
        var c = new float[_buffers[2].Elements];
        _backend.Download(_buffers[2], c);
        return c;
    }

    private static float[] Fill(float[] values, Random random)
    {
        for (int i = 0; i < values.Length; i++) values[i] = random.NextSingle() - 0.5f;
        return values;
    }

    public void Dispose()
    {
        foreach (var b in _buffers) b.Dispose();
        _backend.Dispose();
    }
}
