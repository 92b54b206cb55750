using Dataflow.Engine.Backends;

namespace Dataflow.Engine.Optim;

/// <summary>
/// An optimizer and its hyperparameters. The update itself is a backend kernel
/// (<see cref="OptimizerStepSpec"/>) so parameters never leave the device.
/// </summary>
public sealed record OptimizerConfig
{
    public OptimizerKind Kind { get; init; } = OptimizerKind.Adam;
    public double LearningRate { get; init; } = 1e-3;
    /// <summary>Adam's β1, or SGD's momentum.</summary>
    public double Beta1 { get; init; } = 0.9;
    public double Beta2 { get; init; } = 0.999;
    public double Epsilon { get; init; } = 1e-8;
    public double WeightDecay { get; init; }
    /// <summary>Clip gradients to this global L2 norm; 0 disables clipping.</summary>
    public double ClipNorm { get; init; }

    /// <summary>State tensors per parameter: Adam's two moments, SGD's velocity when it has momentum.</summary>
    public int StateTensors => Kind switch
    {
        OptimizerKind.Sgd => Beta1 > 0 ? 1 : 0,
        _ => 2,
    };

    public static OptimizerConfig Sgd(double lr, double momentum = 0, double weightDecay = 0) =>
        new() { Kind = OptimizerKind.Sgd, LearningRate = lr, Beta1 = momentum, WeightDecay = weightDecay };

    /// <summary>Builds a config from a model file's <c>optimizer NAME(args)</c>, letting explicit values win.</summary>
    public static OptimizerConfig FromArgs(string name, IReadOnlyDictionary<string, double> args)
    {
        double Arg(string key, double fallback) => args.TryGetValue(key, out var v) ? v : fallback;
        var kind = name.ToLowerInvariant() switch
        {
            "sgd" => OptimizerKind.Sgd,
            "adam" => OptimizerKind.Adam,
            "adamw" => OptimizerKind.AdamW,
            _ => throw new ArgumentException($"unknown optimizer '{name}' (known: sgd, adam, adamw)"),
        };
        var known = new HashSet<string> { "lr", "momentum", "beta1", "beta2", "eps", "weight_decay", "clip" };
        foreach (var key in args.Keys)
            if (!known.Contains(key))
                throw new ArgumentException($"optimizer {name}: unknown argument '{key}' (known: {string.Join(", ", known)})");
        return new OptimizerConfig
        {
            Kind = kind,
            LearningRate = Arg("lr", kind == OptimizerKind.Sgd ? 0.1 : 1e-3),
            Beta1 = kind == OptimizerKind.Sgd ? Arg("momentum", 0) : Arg("beta1", 0.9),
            Beta2 = Arg("beta2", 0.999),
            Epsilon = Arg("eps", 1e-8),
            WeightDecay = Arg("weight_decay", kind == OptimizerKind.AdamW ? 0.01 : 0),
            ClipNorm = Arg("clip", 0),
        };
    }
}
