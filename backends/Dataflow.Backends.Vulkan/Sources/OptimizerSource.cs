using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// In-place optimizer updates, an invocation per parameter element, with the CPU backend's formulas
/// written in the same order of operations. Every value the CPU derives from the hyperparameters
/// (1 - beta, 1 / bias correction, the AdamW shrink) is derived on the host too and pushed as a
/// constant, so both backends round them identically.
/// </summary>
internal static class OptimizerSource
{
    public static KernelSource Generate(OptimizerStepSpec spec, int group)
    {
        long n = spec.Elements;
        if (spec.Kind == OptimizerKind.Sgd)
        {
            const string args = "layout(push_constant) uniform Args { float lr; float mu; float wd; float scale; };";
            var momentum = GlslCode.Preamble(spec.DisplayName, group);
            GlslCode.Buffer(momentum, 0, "float", "p", readOnly: false);
            GlslCode.Buffer(momentum, 1, "float", "g", readOnly: true);
            GlslCode.Buffer(momentum, 2, "float", "v", readOnly: false);
            momentum.AppendLine(args);
            GlslCode.GridLoop(momentum, n, """
                precise float pv = p[i];
                precise float vel = mu * v[i] + g[i] * scale + wd * pv;
                v[i] = vel;
                precise float next = pv - lr * vel;
                p[i] = next;
                """);
            var plain = GlslCode.Preamble(spec.DisplayName, group);
            GlslCode.Buffer(plain, 0, "float", "p", readOnly: false);
            GlslCode.Buffer(plain, 1, "float", "g", readOnly: true);
            plain.AppendLine(args);
            GlslCode.GridLoop(plain, n, """
                precise float pv = p[i];
                precise float next = pv - lr * (g[i] * scale + wd * pv);
                p[i] = next;
                """);
            return new KernelSource([momentum.ToString(), plain.ToString()], [n, n, n], [n], [group], Push: PushArgs.Sgd);
        }

        // Adam folds weight decay into the gradient (l2); AdamW shrinks the weights directly.
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "float", "p", readOnly: false);
        GlslCode.Buffer(sb, 1, "float", "g", readOnly: true);
        GlslCode.Buffer(sb, 2, "float", "m", readOnly: false);
        GlslCode.Buffer(sb, 3, "float", "v", readOnly: false);
        sb.AppendLine("layout(push_constant) uniform Args { float lr; float b1; float b2; float c1; float c2; float inv1; float inv2; float eps; float l2; float shrink; float scale; };");
        GlslCode.GridLoop(sb, n, """
            precise float pv = p[i];
            precise float gv = g[i] * scale + l2 * pv;
            precise float mv = b1 * m[i] + c1 * gv;
            precise float vv = b2 * v[i] + c2 * gv * gv;
            m[i] = mv;
            v[i] = vv;
            precise float next = pv * shrink - lr * (mv * inv1) / (sqrt(vv * inv2) + eps);
            p[i] = next;
            """);
        return new KernelSource([sb.ToString()], [n, n, n, n], [n], [group], Push: PushArgs.Adam);
    }
}
