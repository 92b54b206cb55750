namespace Dataflow.Engine.Optim;

/// <summary>The learning rate as a function of the step (0-based): the same answer for the same step, so resuming is exact.</summary>
public abstract record LearningRateSchedule
{
    public abstract double At(long step);

    /// <summary>Builds a schedule from a model file's <c>schedule NAME(args)</c>.</summary>
    public static LearningRateSchedule FromArgs(string name, double peak, long totalSteps, IReadOnlyDictionary<string, double> args)
    {
        double Arg(string key, double fallback) => args.TryGetValue(key, out var v) ? v : fallback;
        return name.ToLowerInvariant() switch
        {
            "constant" => new ConstantSchedule(peak),
            "warmup_cosine" or "cosine" => new WarmupCosineSchedule(peak, Arg("min_lr", peak * 0.1), (long)Arg("warmup", 0), (long)Arg("decay_steps", totalSteps)),
            "inverse_sqrt" => new InverseSqrtSchedule(peak, (long)Arg("warmup", 4000)),
            "noam" => new InverseSqrtSchedule(peak, (long)Arg("warmup", 4000)),
            _ => throw new ArgumentException($"unknown schedule '{name}' (known: constant, warmup_cosine, inverse_sqrt)"),
        };
    }
}

public sealed record ConstantSchedule(double LearningRate) : LearningRateSchedule
{
    public override double At(long step) => LearningRate;
}

/// <summary>Linear warm-up to the peak, then cosine decay to <c>MinLearningRate</c> at <c>TotalSteps</c> (nanoGPT's schedule).</summary>
public sealed record WarmupCosineSchedule(double Peak, double MinLearningRate, long WarmupSteps, long TotalSteps) : LearningRateSchedule
{
    public override double At(long step)
    {
        if (step < WarmupSteps) return Peak * (step + 1) / WarmupSteps;
        if (step >= TotalSteps) return MinLearningRate;
        double progress = (double)(step - WarmupSteps) / Math.Max(1, TotalSteps - WarmupSteps);
        return MinLearningRate + 0.5 * (1 + Math.Cos(Math.PI * progress)) * (Peak - MinLearningRate);
    }
}

/// <summary>
/// The Transformer paper's schedule: linear warm-up, then decay with the inverse square root of
/// the step, scaled so the peak (at the end of warm-up) is <c>Peak</c>.
/// </summary>
public sealed record InverseSqrtSchedule(double Peak, long WarmupSteps) : LearningRateSchedule
{
    public override double At(long step)
    {
        double s = step + 1;
        double w = Math.Max(1, WarmupSteps);
        return Peak * Math.Min(s / w, Math.Sqrt(w / s));
    }
}
