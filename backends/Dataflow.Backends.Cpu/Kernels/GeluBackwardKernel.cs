using System.Runtime.Intrinsics;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// tanh-GELU backward in one pass, parallel over blocks of elements: reads g, x and tanh, forms x², ½·x and
/// 1 + tanh again in registers (the forward then need not write them), and writes dx. The elementwise
/// fusion runs the same sixteen ops as several kernels over the forward's five stored stages. Each step is
/// the float operation of the catalog's rule, in its order, with no fused multiply-add, so the result is
/// the unfused ops' to the bit.
/// </summary>
internal sealed unsafe class GeluBackwardKernel : CpuKernel
{
    private const int Block = 4096;
    private readonly GeluBackwardSpec _spec;

    public GeluBackwardKernel(GeluBackwardSpec spec) : base(spec, [spec.Elements, spec.Elements, spec.Elements, spec.Elements])
    {
        if (!spec.WritesOnlyOutput) throw new NotSupportedException($"cpu: {spec.DisplayName} writes only dx");
        _spec = spec;
    }

    private readonly struct State(GeluBackwardKernel kernel, float* g, float* x, float* tanh, float* dx)
    {
        public readonly GeluBackwardKernel Kernel = kernel;
        public readonly float* G = g, X = x, Tanh = tanh, Dx = dx;
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        long n = _spec.Elements;
        if (n == 0) return;
        int blocks = (int)((n + Block - 1) / Block);
        Par.For(blocks, 20L * Block, new State(this, buffers[0].Pointer, buffers[1].Pointer, buffers[2].Pointer, buffers[3].Pointer),
            static (s, first, last) => s.Kernel.RunBlocks(s, first, last));
    }

    private void RunBlocks(in State s, int first, int last)
    {
        long start = (long)first * Block, end = Math.Min((long)last * Block, _spec.Elements);
        float k = _spec.CubeScale, c = _spec.InnerScale, h = _spec.HalfScale, one = _spec.One;
        var kv = Vector256.Create(k);
        var cv = Vector256.Create(c);
        var hv = Vector256.Create(h);
        var onev = Vector256.Create(one);
        long i = start;
        for (; i + Vector256<float>.Count <= end; i += Vector256<float>.Count)
        {
            var g = Vector256.Load(s.G + i);
            var x = Vector256.Load(s.X + i);
            var t = Vector256.Load(s.Tanh + i);
            var sumGrad = g * (x * hv) * (onev - t * t) * cv;
            var cubeGrad = sumGrad * kv;
            var squareGrad = cubeGrad * x;
            var term = squareGrad * x;
            ((((g * (onev + t)) * hv + sumGrad) + cubeGrad * (x * x)) + term + term).Store(s.Dx + i);
        }
        for (; i < end; i++)
        {
            float g = s.G[i], x = s.X[i], t = s.Tanh[i];
            float sumGrad = g * (x * h) * (one - t * t) * c;
            float cubeGrad = sumGrad * k;
            float squareGrad = cubeGrad * x;
            float term = squareGrad * x;
            s.Dx[i] = (((g * (one + t)) * h + sumGrad) + cubeGrad * (x * x)) + term + term;
        }
    }
}
