using System.Globalization;
using Dataflow.Engine;
using Dataflow.Engine.Data;
using Dataflow.Engine.Optim;

namespace Dataflow.Training;

/// <summary>
/// A classifier on Fashion-MNIST as a <see cref="TrainingPlan"/>: shuffled mini-batches, the model
/// file's optimizer and schedule, validation loss and accuracy (and a checkpoint) after every epoch.
/// </summary>
public static class ClassifierRun
{
    public static TrainingPlan Plan(ClassifierSettings s)
    {
        var (model, evalModel) = s.LoadModels();
        var data = DataSources.FashionMnistTraining(s.Data);
        var inputs = ClassifierInputs.Of(model.Graph, data.Train.FeatureWidth, s.Data);
        // Out-of-range labels are refused now, not after an epoch spent on them.
        long classes = inputs.ClassCount(model.Graph);
        LabelValidation.RequireClassIndices(data.Train, classes, $"--data {s.Data} (training split)");
        LabelValidation.RequireClassIndices(data.Validation, classes, $"--data {s.Data} (validation split)");

        var defaults = model.Training;
        int epochs = s.Epochs ?? (int)defaults.TrainArgs.GetValueOrDefault("epochs", 10);
        int batch = s.Batch ?? (int)defaults.TrainArgs.GetValueOrDefault("batch", 64);
        if (epochs < 1 || batch < 1) throw new ConfigurationException($"--epochs and --batch must be positive (got {epochs} and {batch})");
        var optimizer = OptimizerSettings.From(defaults, s.LearningRate);
        var batches = new ClassifierBatches(data.Train, inputs, ClassifierInputs.BatchSymbol(model.Graph, inputs.Features), batch, (ulong)s.Seed);
        int perEpoch = batches.BatchesPerEpoch;
        // The schedule's horizon comes from the model file, not --epochs (nanoGPT's lr_decay_iters),
        // so a run split by --resume follows the same learning rates as one run straight through.
        long horizon = (long)defaults.ScheduleArgs.GetValueOrDefault("decay_steps", defaults.TrainArgs.GetValueOrDefault("epochs", epochs) * perEpoch);
        return new TrainingPlan
        {
            Title = $"train {model.Name}",
            Model = model,
            Batches = batches,
            Evaluator = new ClassifierEvaluator(evalModel.Graph, inputs, data.Validation, FashionMnist.ClassNames.Count),
            Steps = (long)epochs * perEpoch,
            EvalEvery = perEpoch,
            Epochs = epochs,
            Optimizer = optimizer,
            Schedule = LearningRateSchedule.FromArgs(defaults.Schedule, optimizer.LearningRate, horizon, defaults.ScheduleArgs),
            CheckpointConfig = (session, _) =>
            {
                var config = s.BaseConfig(model, batch);
                config["epoch"] = (session.Step / perEpoch).ToString(CultureInfo.InvariantCulture);
                return config;
            },
            Seed = s.Seed, Compile = s.Compile, CheckpointPath = s.CheckpointPath, ResumePath = s.ResumePath, Patience = s.Patience, Verbose = s.Verbose,
        };
    }
}
