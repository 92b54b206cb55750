using Dataflow.Engine.Optim;
using Dataflow.Graph.Dsl;

namespace Dataflow.Training;

/// <summary>The optimizer every kind of run starts from: the model file's, with the run's learning rate when it gives one.</summary>
public static class OptimizerSettings
{
    public static OptimizerConfig From(TrainingDefaults defaults, double? learningRate)
    {
        var optimizer = OptimizerConfig.FromArgs(defaults.Optimizer, defaults.OptimizerArgs);
        if (learningRate is not { } lr) return optimizer;
        if (!(lr > 0) || double.IsInfinity(lr)) throw new Engine.ConfigurationException($"--lr {lr}: the learning rate must be a positive number");
        return optimizer with { LearningRate = lr };
    }
}
