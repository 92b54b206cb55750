using Dataflow.Engine.Backends;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// In-place optimizer updates, a work-item per parameter element, with the CPU backend's formulas
/// written in the same order of operations. Every value the CPU derives from the hyperparameters
/// (1 - beta, 1 / bias correction, the AdamW shrink) is derived on the host too and passed in, so
/// both backends round them identically.
/// </summary>
internal static class OptimizerSource
{
    public static KernelSource Generate(OptimizerStepSpec spec)
    {
        long n = spec.Elements;
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(n));
        string bound = $"if (i >= {ClCode.Int(n)}) return;";
        if (spec.Kind == OptimizerKind.Sgd)
        {
            sb.Append($$"""
                __kernel void sgd_momentum(__global float* p, __global const float* g, __global float* v,
                    const float lr, const float mu, const float wd, const float scale)
                {
                    const idx_t i = get_global_id(0);
                    {{bound}}
                    const float pv = p[i];
                    const float vel = mu * v[i] + g[i] * scale + wd * pv;
                    v[i] = vel;
                    p[i] = pv - lr * vel;
                }

                __kernel void sgd(__global float* p, __global const float* g,
                    const float lr, const float mu, const float wd, const float scale)
                {
                    const idx_t i = get_global_id(0);
                    {{bound}}
                    const float pv = p[i];
                    p[i] = pv - lr * (g[i] * scale + wd * pv);
                }

                """);
            return new KernelSource(sb.ToString(), ["sgd_momentum", "sgd"], [n, n, n], [n], Scalars: ScalarArgs.Sgd);
        }

        // Adam folds weight decay into the gradient (l2); AdamW shrinks the weights directly.
        sb.Append($$"""
            __kernel void adam(__global float* p, __global const float* g, __global float* m, __global float* v,
                const float lr, const float b1, const float b2, const float c1, const float c2,
                const float inv1, const float inv2, const float eps, const float l2, const float shrink, const float scale)
            {
                const idx_t i = get_global_id(0);
                {{bound}}
                const float pv = p[i];
                const float gv = g[i] * scale + l2 * pv;
                const float mv = b1 * m[i] + c1 * gv;
                const float vv = b2 * v[i] + c2 * gv * gv;
                m[i] = mv;
                v[i] = vv;
                p[i] = pv * shrink - lr * (mv * inv1) / (sqrt(vv * inv2) + eps);
            }

            """);
        return new KernelSource(sb.ToString(), ["adam"], [n, n, n, n], [n], Scalars: ScalarArgs.Adam);
    }
}
