using System.Runtime.Intrinsics;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>
/// In-place optimizer updates, one fused pass over parameter, gradient and state (the update is
/// memory-bound, so touching each array once is what matters). Buffers: param, grad, state...
/// Hyperparameters come per launch (the learning rate schedule and bias corrections change every step).
/// </summary>
internal sealed unsafe class OptimizerKernel : CpuKernel
{
    private readonly OptimizerKind _kind;

    public OptimizerKernel(OptimizerStepSpec spec) : base(spec, Enumerable.Repeat(spec.Elements, spec.Kind == OptimizerKind.Sgd ? 3 : 4).ToArray())
    {
        _kind = spec.Kind;
    }

    /// <summary>SGD without momentum has no velocity buffer.</summary>
    public override int OptionalTrailingBuffers => _kind == OptimizerKind.Sgd ? 1 : 0;

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        var s = launch.Scalars;
        if (s is null || s.Length < OptimizerScalars.Count)
            throw new ArgumentException($"{Spec.DisplayName}: expected {OptimizerScalars.Count} scalars in the launch, got {s?.Length ?? 0}");
        float* p = buffers[0].Pointer, g = buffers[1].Pointer;
        int n = (int)BufferElements[0];
        float lr = s[OptimizerScalars.LearningRate], b1 = s[OptimizerScalars.Beta1], b2 = s[OptimizerScalars.Beta2];
        float eps = s[OptimizerScalars.Epsilon], wd = s[OptimizerScalars.WeightDecay], scale = s[OptimizerScalars.GradientScale];
        float bc1 = s[OptimizerScalars.BiasCorrection1], bc2 = s[OptimizerScalars.BiasCorrection2];

        switch (_kind)
        {
            case OptimizerKind.Sgd when buffers.Length < 3:
                Par.For(n, 4, (a, e) => Sgd(p, g, a, e, lr, wd, scale));
                break;
            case OptimizerKind.Sgd:
            {
                float* v = buffers[2].Pointer;
                Par.For(n, 6, (a, e) => Momentum(p, g, v, a, e, lr, b1, wd, scale));
                break;
            }
            default:
            {
                float* m = buffers[2].Pointer, v = buffers[3].Pointer;
                bool decoupled = _kind == OptimizerKind.AdamW;
                Par.For(n, 16, (a, e) => Adam(p, g, m, v, a, e, lr, b1, b2, eps, wd, scale, bc1, bc2, decoupled));
                break;
            }
        }
    }

    private static void Sgd(float* p, float* g, int start, int end, float lr, float wd, float scale)
    {
        int i = start;
        var vlr = Vector256.Create(lr); var vwd = Vector256.Create(wd); var vs = Vector256.Create(scale);
        for (; i + 8 <= end; i += 8)
        {
            var pv = Vector256.Load(p + i);
            (pv - vlr * (Vector256.Load(g + i) * vs + vwd * pv)).Store(p + i);
        }
        for (; i < end; i++) p[i] -= lr * (g[i] * scale + wd * p[i]);
    }

    private static void Momentum(float* p, float* g, float* v, int start, int end, float lr, float mu, float wd, float scale)
    {
        int i = start;
        var vlr = Vector256.Create(lr); var vmu = Vector256.Create(mu); var vwd = Vector256.Create(wd); var vs = Vector256.Create(scale);
        for (; i + 8 <= end; i += 8)
        {
            var pv = Vector256.Load(p + i);
            var vel = vmu * Vector256.Load(v + i) + Vector256.Load(g + i) * vs + vwd * pv;
            vel.Store(v + i);
            (pv - vlr * vel).Store(p + i);
        }
        for (; i < end; i++)
        {
            v[i] = mu * v[i] + g[i] * scale + wd * p[i];
            p[i] -= lr * v[i];
        }
    }

    internal static void Adam(float* p, float* g, float* m, float* v, int start, int end,
        float lr, float b1, float b2, float eps, float wd, float scale, float bc1, float bc2, bool decoupled)
    {
        // Adam folds weight decay into the gradient (L2); AdamW shrinks the weights directly.
        float l2 = decoupled ? 0f : wd, shrink = decoupled ? 1f - lr * wd : 1f;
        float c1 = 1f - b1, c2 = 1f - b2, inv1 = 1f / bc1, inv2 = 1f / bc2;
        var vl2 = Vector256.Create(l2); var vshrink = Vector256.Create(shrink); var vs = Vector256.Create(scale);
        var vb1 = Vector256.Create(b1); var vb2 = Vector256.Create(b2); var vc1 = Vector256.Create(c1); var vc2 = Vector256.Create(c2);
        var vinv1 = Vector256.Create(inv1); var vinv2 = Vector256.Create(inv2); var veps = Vector256.Create(eps); var vlr = Vector256.Create(lr);
        int i = start;
        for (; i + 8 <= end; i += 8)
        {
            var pv = Vector256.Load(p + i);
            var gv = Vector256.Load(g + i) * vs + vl2 * pv;
            var mv = vb1 * Vector256.Load(m + i) + vc1 * gv;
            var vv = vb2 * Vector256.Load(v + i) + vc2 * gv * gv;
            mv.Store(m + i);
            vv.Store(v + i);
            (pv * vshrink - vlr * (mv * vinv1) / (Vector256.Sqrt(vv * vinv2) + veps)).Store(p + i);
        }
        for (; i < end; i++)
        {
            float pv = p[i];
            float gv = g[i] * scale + l2 * pv;
            float mv = m[i] = b1 * m[i] + c1 * gv;
            float vv = v[i] = b2 * v[i] + c2 * gv * gv;
            p[i] = pv * shrink - lr * (mv * inv1) / (MathF.Sqrt(vv * inv2) + eps);
        }
    }
}
