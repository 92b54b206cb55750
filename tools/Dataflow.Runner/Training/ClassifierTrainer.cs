using System.Diagnostics;
using System.Globalization;
using Dataflow.Engine.Data;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Training;

/// <summary>
/// Mini-batch training of a classifier on Fashion-MNIST, top to bottom: load the model and data,
/// set up the session, then per epoch train, validate, report and checkpoint.
/// </summary>
public static class ClassifierTrainer
{
    public static TrainResult Run(TrainSettings s, ProgressSink progress)
    {
        var model = ModelLoader.Load(s.ModelPath, CommonOptions.ModelOptions(s.Preset, s.Overrides, training: true));
        var evalModel = ModelLoader.Load(s.ModelPath, CommonOptions.ModelOptions(s.Preset, s.Overrides, training: false));
        var data = DataSources.FashionMnistTraining(s.Data);
        var inputs = ClassifierInputs.Of(model.Graph, data.Train.FeatureWidth, s.Data);
        int classes = FashionMnist.ClassNames.Count;

        var defaults = model.Training;
        int epochs = s.Epochs ?? (int)defaults.TrainArgs.GetValueOrDefault("epochs", 10);
        int batch = s.Batch ?? (int)defaults.TrainArgs.GetValueOrDefault("batch", 64);
        if (epochs < 1 || batch < 1) throw new UsageException($"--epochs and --batch must be positive (got {epochs} and {batch})");
        var optimizer = OptimizerConfig.FromArgs(defaults.Optimizer, defaults.OptimizerArgs);
        if (s.LearningRate is { } lr) optimizer = optimizer with { LearningRate = lr };
        var iterator = BatchIterator.ForTraining(data.Train, batch, (ulong)s.Seed);
        long totalSteps = (long)epochs * iterator.BatchesPerEpoch;
        // The schedule's horizon comes from the model file, not --epochs (nanoGPT's lr_decay_iters),
        // so a run split by --resume follows the same learning rates as one run straight through.
        long horizon = (long)defaults.ScheduleArgs.GetValueOrDefault("decay_steps",
            defaults.TrainArgs.GetValueOrDefault("epochs", epochs) * iterator.BatchesPerEpoch);

        using var session = new Session(BackendFactory.Create(s.Backend), s.Seed, s.Compile)
        {
            Optimizer = optimizer,
            Schedule = LearningRateSchedule.FromArgs(defaults.Schedule, optimizer.LearningRate, horizon, defaults.ScheduleArgs),
        };
        var trainGraph = TrainingGraph.ForTraining(model.Graph, withGradNorm: optimizer.ClipNorm > 0);
        var step = session.Compile(trainGraph, new Dictionary<string, long> { [ClassifierInputs.BatchSymbol(model.Graph, inputs.Features)] = batch });
        if (s.ResumePath is not null)
        {
            var checkpoint = SessionCheckpoint.Load(session, model.Graph, s.ResumePath);
            iterator.SetState(checkpoint.RngState);
            progress.Line($"resumed from {s.ResumePath} at epoch {iterator.Epoch}, step {session.Step}");
        }
        if (s.Verbose >= 1) progress.Line($"device: {session.Backend.Device.Name} ({session.Backend.Name}); {step.KernelCount} kernels per step");
        if (s.Verbose >= 3) progress.Line(step.Describe(withTimings: false));

        var features = new float[batch * data.Train.FeatureWidth];
        var labels = new int[batch];
        var fed = new Dictionary<string, Array> { [inputs.Features] = features, [inputs.Labels] = labels };
        var clock = Stopwatch.StartNew();
        double epochLoss = double.NaN;
        ClassifierMetrics? validation = null;
        int startEpoch = iterator.Epoch;

        progress.Run($"train {model.Name}", totalSteps, sink =>
        {
            for (int epoch = startEpoch; epoch < epochs; epoch++)
            {
                var epochClock = Stopwatch.StartNew();
                double lossSum = 0;
                int batches = 0;
                while (iterator.TryNext(features, labels, out _))
                {
                    float loss = session.TrainStep(step, fed).Results[TrainingGraph.LossOutput][0];
                    if (!float.IsFinite(loss)) throw new UsageException($"the loss became {loss} at step {session.Step}; try a smaller --lr");
                    lossSum += loss;
                    batches++;
                    double rate = batches / epochClock.Elapsed.TotalSeconds;
                    sink.Update(session.Step, $"epoch {epoch + 1}/{epochs} loss {loss:F4} {rate:F0} steps/s");
                }
                epochLoss = lossSum / Math.Max(1, batches);
                validation = ClassifierEvaluator.Evaluate(session, evalModel.Graph, inputs, data.Validation, classes);
                sink.Line(string.Create(CultureInfo.InvariantCulture,
                    $"epoch {epoch + 1,3}/{epochs}  train_loss {epochLoss:F6}  val_loss {validation.Loss:F6}  val_acc {validation.Accuracy:F4}  lr {session.CurrentLearningRate:E2}  {epochClock.Elapsed.TotalSeconds:F1} s"));
                if (s.CheckpointPath is not null)
                    SessionCheckpoint.Save(session, model.Graph, s.CheckpointPath, CheckpointConfig(model, s, epoch + 1, batch), iterator.GetState());
            }
        });

        if (s.Verbose >= 2) { step.Profile = true; session.TrainStep(step, fed); progress.Line(step.Describe(withTimings: true)); }
        validation ??= ClassifierEvaluator.Evaluate(session, evalModel.Graph, inputs, data.Validation, classes);
        return new TrainResult(epochLoss, session.Step, epochs, validation.Loss, validation.Accuracy, clock.Elapsed.TotalSeconds);
    }

    private static Dictionary<string, string> CheckpointConfig(LoadedModel model, TrainSettings s, int epoch, int batch)
    {
        var config = model.Settings.ToDictionary(kv => kv.Key, kv => CommonOptions.Format(kv.Value));
        config["model_file"] = Path.GetFileName(s.ModelPath);
        config["epoch"] = epoch.ToString(CultureInfo.InvariantCulture);
        config["batch"] = batch.ToString(CultureInfo.InvariantCulture);
        config["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture);
        config["optimizer"] = model.Training.Optimizer;
        if (s.Preset is not null) config["preset"] = s.Preset;
        foreach (var pair in s.Overrides) config["set." + pair.Split('=')[0]] = pair.Split('=', 2).ElementAtOrDefault(1) ?? "";
        return config;
    }
}
