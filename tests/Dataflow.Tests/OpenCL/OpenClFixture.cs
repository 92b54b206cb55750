using System.Runtime.InteropServices;
using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.OpenCL;

/// <summary>
/// One OpenCL backend (and a CPU reference) per test class. There is no skip when OpenCL is
/// missing: tools/setup installs PoCL, so a missing device is a broken environment, and every test
/// of the class fails with the backend's reason.
/// </summary>
public sealed class OpenClFixture : IDisposable
{
    private readonly Lazy<OpenClBackend> _gpuPlan = new(() => OpenClBackend.Create(0, KernelPlan.Gpu));
    private readonly Lazy<OpenClBackend> _cpuPlan = new(() => OpenClBackend.Create(0, KernelPlan.Cpu));

    public OpenClFixture()
    {
        Backend = OpenClBackend.Create();
    }

    /// <summary>The first device with the kernel plan its kind calls for (on PoCL: <see cref="KernelPlan.Cpu"/>).</summary>
    public OpenClBackend Backend { get; }
    public CpuBackend Cpu { get; } = new();

    /// <summary>
    /// The same device under each kernel plan, so a CPU driver also checks the local-memory tiles and
    /// trees meant for GPUs, and a GPU also checks the register-blocked kernels meant for CPUs.
    /// </summary>
    public OpenClBackend WithPlan(string plan) => plan switch
    {
        "gpu" => _gpuPlan.Value,
        "cpu" => _cpuPlan.Value,
        _ => throw new ArgumentException($"no kernel plan '{plan}' (gpu, cpu)", nameof(plan)),
    };

    public void Dispose()
    {
        Backend.Dispose();
        if (_gpuPlan.IsValueCreated) _gpuPlan.Value.Dispose();
        if (_cpuPlan.IsValueCreated) _cpuPlan.Value.Dispose();
        Cpu.Dispose();
    }

    public static TensorDesc F32(params long[] shape) => new(DType.F32, shape);
    public static TensorDesc I32(params long[] shape) => new(DType.I32, shape);

    /// <summary>Runs <paramref name="spec"/> on both backends with the same inputs; outputs as raw floats.</summary>
    /// <param name="plan">A kernel plan for <see cref="WithPlan"/>, or null for <see cref="Backend"/>.</param>
    public (float[][] Cpu, float[][] OpenCl) RunBoth(KernelSpec spec, object[] inputs, long[] outputElements, LaunchParams? launch = null, string? plan = null) =>
        (Run(Cpu, spec, inputs, outputElements, launch), Run(plan is null ? Backend : WithPlan(plan), spec, inputs, outputElements, launch));

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
