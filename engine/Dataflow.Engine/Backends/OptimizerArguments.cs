namespace Dataflow.Engine.Backends;

/// <summary>
/// The per-launch values a device kernel for an <see cref="OptimizerStepSpec"/> takes, derived on
/// the host from <see cref="OptimizerScalars"/> exactly as the CPU backend derives them (1 - beta,
/// 1 / bias correction, the AdamW shrink), so every backend rounds them identically.
/// SGD: [lr, momentum, weight decay, gradient scale]. Adam and AdamW:
/// [lr, b1, b2, 1 - b1, 1 - b2, 1 / bc1, 1 / bc2, eps, l2, shrink, gradient scale], where Adam folds
/// weight decay into the gradient (l2) and AdamW shrinks the weights directly.
/// </summary>
public static class OptimizerArguments
{
    public static float[] Of(OptimizerStepSpec spec, float[]? s)
    {
        if (s is null || s.Length < OptimizerScalars.Count)
            throw new ArgumentException($"{spec.DisplayName}: expected {OptimizerScalars.Count} scalars in the launch, got {s?.Length ?? 0}");
        float lr = s[OptimizerScalars.LearningRate], b1 = s[OptimizerScalars.Beta1], b2 = s[OptimizerScalars.Beta2];
        float eps = s[OptimizerScalars.Epsilon], wd = s[OptimizerScalars.WeightDecay], scale = s[OptimizerScalars.GradientScale];
        float bc1 = s[OptimizerScalars.BiasCorrection1], bc2 = s[OptimizerScalars.BiasCorrection2];
        if (spec.Kind == OptimizerKind.Sgd) return [lr, b1, wd, scale];
        bool decoupled = spec.Kind == OptimizerKind.AdamW;
        float l2 = decoupled ? 0f : wd, shrink = decoupled ? 1f - lr * wd : 1f;
        return [lr, b1, b2, 1f - b1, 1f - b2, 1f / bc1, 1f / bc2, eps, l2, shrink, scale];
    }
}
