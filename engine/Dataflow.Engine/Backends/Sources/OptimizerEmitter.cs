namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// In-place optimizer updates, one element each, with the CPU backend's formulas written in the
/// same order of operations. Every value the CPU derives from the hyperparameters (1 - beta,
/// 1 / bias correction, the AdamW shrink) is derived on the host too and passed per launch
/// (<see cref="OptimizerArguments"/>), so all backends round them identically.
/// </summary>
public static class OptimizerEmitter
{
    public static EmittedKernel Generate(OptimizerStepSpec spec, CDialect d)
    {
        long n = spec.Elements;
        string f = d.FloatLet;
        KernelBuffer p = new("float", "p"), g = new("float", "g", ReadOnly: true), v = new("float", "v");
        if (spec.Kind == OptimizerKind.Sgd)
        {
            KernelScalar[] args = Scalars("lr", "mu", "wd", "scale");
            var momentum = new ElementKernel("sgd_momentum", [p, g, v], n, $"""
                {f} pv = p[i];
                {f} vel = mu * v[i] + g[i] * scale + wd * pv;
                v[i] = vel;
                {f} next = pv - lr * vel;
                p[i] = next;
                """, args);
            var plain = new ElementKernel("sgd", [p, g], n, $"""
                {f} pv = p[i];
                {f} next = pv - lr * (g[i] * scale + wd * pv);
                p[i] = next;
                """, args);
            return new([momentum, plain], [n, n, n], [n], LaunchScalars.Sgd);
        }

        // Adam folds weight decay into the gradient (l2); AdamW shrinks the weights directly.
        var adam = new ElementKernel("adam", [p, g, new("float", "m"), v], n, $"""
            {f} pv = p[i];
            {f} gv = g[i] * scale + l2 * pv;
            {f} mv = b1 * m[i] + c1 * gv;
            {f} vv = b2 * v[i] + c2 * gv * gv;
            m[i] = mv;
            v[i] = vv;
            {f} next = pv * shrink - lr * (mv * inv1) / (sqrt(vv * inv2) + eps);
            p[i] = next;
            """, Scalars("lr", "b1", "b2", "c1", "c2", "inv1", "inv2", "eps", "l2", "shrink", "scale"));
        return EmittedKernel.Of(adam, [n, n, n, n], LaunchScalars.Adam);
    }

    private static KernelScalar[] Scalars(params string[] names) => [.. names.Select(n => new KernelScalar("float", n))];
}
