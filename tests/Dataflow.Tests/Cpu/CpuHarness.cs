using System.Collections.Immutable;
using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.Contracts;

namespace Dataflow.Tests.Cpu;

/// <summary>Runs single kernels on the CPU backend and supplies naive references and error measures.</summary>
internal static class CpuHarness
{
    public static readonly CpuBackend Backend = new();

    public static TensorDesc F32(params long[] shape) => KernelRunner.F32(shape);
    public static TensorDesc I32(params long[] shape) => KernelRunner.I32(shape);

    /// <summary>Uploads inputs (float[] or int[]), launches on the CPU, and returns every output as raw floats (NaN where a kernel wrote nothing).</summary>
    public static float[][] Run(KernelSpec spec, object[] inputs, long[] outputElements, LaunchParams? launch = null) =>
        KernelRunner.Run(Backend, spec, inputs, outputElements, launch);

    public static float[] RunOp(OpCode op, OpAttrs attrs, TensorDesc[] inputs, TensorDesc output, object[] data, long count = 0, LaunchParams? launch = null) =>
        Run(new OpKernelSpec(op, attrs, [.. inputs], output) { Count = count }, data, [output.Elements], launch)[0];

    public static int[] AsInts(float[] raw) => System.Runtime.InteropServices.MemoryMarshal.Cast<float, int>(raw).ToArray();

    public static float[] Random(long n, int seed, float scale = 1f)
    {
        var r = new Random(seed);
        var data = new float[n];
        for (long i = 0; i < n; i++) data[i] = (r.NextSingle() * 2f - 1f) * scale;
        return data;
    }

    /// <summary>
    /// Asserts <paramref name="got"/> = A [m, k] · B (B [k, n], or [n, k] read as Bᵀ where <paramref name="transposed"/>)
    /// element by element, within <paramref name="tolerance"/> of Σ|a·b| against a double-precision sum.
    /// </summary>
    public static void AssertNaiveProduct(float[] got, float[] a, float[] b, int m, int n, int k, bool transposed, double tolerance = 1e-5)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double sum = 0, scale = 0;
                for (int p = 0; p < k; p++)
                {
                    double y = transposed ? b[j * k + p] : b[p * n + j];
                    sum += a[i * k + p] * y;
                    scale += Math.Abs(a[i * k + p] * y);
                }
                Assert.True(Math.Abs(got[i * n + j] - sum) <= tolerance * Math.Max(scale, 1e-30), $"[{i},{j}] of [{m},{k}]·[{k},{n}]{(transposed ? " (Bᵀ)" : "")}: {got[i * n + j]} vs {sum}");
            }
    }

    public static long Elements(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>Row-major multi-index of linear index i.</summary>
    public static long[] Unravel(long i, long[] shape)
    {
        var index = new long[shape.Length];
        for (int d = shape.Length - 1; d >= 0; d--)
        {
            index[d] = i % shape[d];
            i /= shape[d];
        }
        return index;
    }

    /// <summary>Linear index into <paramref name="shape"/> of an output multi-index, NumPy-broadcast (lower rank aligned right).</summary>
    public static long BroadcastIndex(long[] outIndex, long[] shape)
    {
        long offset = 0;
        int lead = outIndex.Length - shape.Length;
        for (int d = 0; d < shape.Length; d++) offset = offset * shape[d] + (shape[d] == 1 ? 0 : outIndex[lead + d]);
        return offset;
    }

    /// <summary>Largest |actual - expected| / max(|expected|, floor); equal non-finite values count as exact.</summary>
    public static double MaxRelativeError(float[] actual, double[] expected, double floor = 1.0)
    {
        Assert.Equal(expected.Length, actual.Length);
        double worst = 0;
        for (int i = 0; i < actual.Length; i++)
        {
            if (double.IsNaN(expected[i]) && float.IsNaN(actual[i])) continue;
            if (double.IsInfinity(expected[i]) && actual[i] == expected[i]) continue;
            double err = Math.Abs(actual[i] - expected[i]) / Math.Max(Math.Abs(expected[i]), floor);
            if (double.IsNaN(err)) return double.PositiveInfinity;
            worst = Math.Max(worst, err);
        }
        return worst;
    }

    public static void AssertClose(double[] expected, float[] actual, double tolerance, double floor = 1.0, string? what = null)
    {
        double err = MaxRelativeError(actual, expected, floor);
        Assert.True(err <= tolerance, $"{what}: max relative error {err:E3} exceeds {tolerance:E1}");
    }

    public static double[] ToDouble(float[] x) => x.Select(v => (double)v).ToArray();
}
