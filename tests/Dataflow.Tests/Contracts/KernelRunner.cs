using System.Runtime.InteropServices;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// Runs one kernel on any backend from host arrays, and the small input helpers the kernel tests
/// share (seeded random values, raw bits, element counts, tensor descriptions). Backend-neutral:
/// the contract tests and each device backend's own tests use it.
/// </summary>
internal static class KernelRunner
{
    public static TensorDesc F32(params long[] shape) => new(DType.F32, shape);
    public static TensorDesc I32(params long[] shape) => new(DType.I32, shape);

    /// <summary>
    /// Uploads inputs (float[] or int[]), fills outputs with NaN so unwritten elements show, launches,
    /// and downloads every output. Inputs that are also updated in place (optimizer state) come back
    /// too when <paramref name="downloadInputs"/> is set.
    /// </summary>
    public static float[][] Run(IBackend backend, KernelSpec spec, object[] inputs, long[] outputElements, LaunchParams? launch = null, bool downloadInputs = false)
    {
        var kernel = backend.Compile(spec);
        var buffers = new List<IDeviceBuffer>();
        try
        {
            foreach (var input in inputs)
            {
                switch (input)
                {
                    case float[] f:
                        buffers.Add(backend.Allocate(f.Length));
                        backend.Upload(buffers[^1], f);
                        break;
                    case int[] i:
                        buffers.Add(backend.Allocate(i.Length));
                        backend.Upload(buffers[^1], i);
                        break;
                    default: throw new ArgumentException("inputs are float[] or int[]");
                }
            }
            foreach (var n in outputElements)
            {
                var b = backend.Allocate(n);
                backend.Upload(b, Enumerable.Repeat(float.NaN, (int)n).ToArray());
                buffers.Add(b);
            }
            backend.Enqueue(kernel, buffers.ToArray(), launch ?? LaunchParams.None);
            backend.Wait();
            var read = downloadInputs ? buffers : buffers.Skip(inputs.Length).ToList();
            return read.Select(b =>
            {
                var r = new float[b.Elements];
                backend.Download(b, r);
                return r;
            }).ToArray();
        }
        finally
        {
            foreach (var b in buffers) b.Dispose();
        }
    }

    public static float[] Random(long n, int seed, float scale = 1f, float offset = 0f)
    {
        var r = new Random(seed);
        var data = new float[n];
        for (long i = 0; i < n; i++) data[i] = (r.NextSingle() * 2f - 1f) * scale + offset;
        return data;
    }

    public static int[] Bits(float[] raw) => MemoryMarshal.Cast<float, int>(raw).ToArray();

    public static long Elements(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);
}
