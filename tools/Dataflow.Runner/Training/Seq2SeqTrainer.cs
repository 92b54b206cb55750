using System.Diagnostics;
using System.Globalization;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Tasks;

namespace Dataflow.Runner.Training;

/// <summary>
/// Encoder–decoder training on a generated transduction task, top to bottom: load the model, make
/// the held-out set and the training stream, set up the session with the model file's optimizer and
/// schedule (the paper's Adam and warm-up/inverse-square-root for transformer.dfg), then train,
/// every so often evaluating greedy decoding on the held-out set and checkpointing.
/// </summary>
public static class Seq2SeqTrainer
{
    public static TrainResult Run(Seq2SeqSettings s, ProgressSink progress)
    {
        var model = ModelLoader.Load(s.ModelPath, CommonOptions.ModelOptions(s.Preset, s.Overrides, training: true));
        var evalModel = ModelLoader.Load(s.ModelPath, CommonOptions.ModelOptions(s.Preset, s.Overrides, training: false));
        var inputs = Seq2SeqInputs.Of(model.Graph);
        var task = CreateTask(s.Task, s.MinLength, s.MaxLength);
        var heldOut = HeldOutSet.Create(task, s.EvalPerLength);
        var stream = new TransductionStream(task, heldOut, (ulong)s.Seed);

        var defaults = model.Training;
        long steps = s.Steps ?? (long)defaults.TrainArgs.GetValueOrDefault("steps", 2000);
        int batch = s.Batch ?? (int)defaults.TrainArgs.GetValueOrDefault("batch", 64);
        if (steps < 1 || batch < 1) throw new UsageException($"--steps and --batch must be positive (got {steps} and {batch})");
        long evalEvery = s.EvalEvery ?? Math.Max(1, steps / 10);
        if (evalEvery < 1) throw new UsageException($"the evaluation interval must be positive, got {evalEvery}");
        var averaging = SnapshotAveraging(s, defaults, steps);
        var optimizer = OptimizerConfig.FromArgs(defaults.Optimizer, defaults.OptimizerArgs);
        if (s.LearningRate is { } lr) optimizer = optimizer with { LearningRate = lr };
        var scheduleArgs = new Dictionary<string, double>(defaults.ScheduleArgs);
        if (s.Warmup is { } warmup)
        {
            if (warmup < 0) throw new UsageException($"--warmup must not be negative, got {warmup}");
            scheduleArgs["warmup"] = warmup;
        }
        // As in ClassifierTrainer, a decaying schedule's horizon comes from the model file, so a resumed run follows the same rates.
        long horizon = (long)defaults.TrainArgs.GetValueOrDefault("steps", steps);

        using var session = new Session(BackendFactory.Create(s.Backend), s.Seed, s.Compile)
        {
            Optimizer = optimizer,
            Schedule = LearningRateSchedule.FromArgs(defaults.Schedule, optimizer.LearningRate, horizon, scheduleArgs),
        };
        var trainGraph = TrainingGraph.ForTraining(model.Graph, withGradNorm: optimizer.ClipNorm > 0);
        var evaluator = new Seq2SeqEvaluator(session, evalModel.Graph, inputs, heldOut);
        if (s.ResumePath is not null)
        {
            var checkpoint = SessionCheckpoint.Load(session, model.Graph, s.ResumePath);
            var saved = checkpoint.Header.Config.GetValueOrDefault("task");
            if (saved is not null && saved != task.Name)
                throw new UsageException($"{s.ResumePath} was trained on --task {saved}, not {task.Name}");
            stream.SetState(checkpoint.RngState);
            progress.Line($"resumed from {s.ResumePath} at step {session.Step}");
        }
        if (s.Verbose >= 1)
            progress.Line($"device: {session.Backend.Device.Name} ({session.Backend.Name}); task {task.Name}, lengths {task.MinLength}-{task.MaxLength}, {heldOut.Samples.Count} held-out sequences");

        var clock = Stopwatch.StartNew();
        double intervalLoss = 0, finalLoss = double.NaN;
        int intervalSteps = 0;
        Seq2SeqMetrics? metrics = null;
        var average = new ParameterAverage(session.Parameters);
        progress.Run($"train {model.Name} on {task.Name}", steps, sink =>
        {
            var intervalClock = Stopwatch.StartNew();
            while (session.Step < steps)
            {
                var examples = Seq2SeqBatch.From(stream.NextBatch(batch));
                var step = session.Compile(trainGraph, inputs.Bindings(examples));
                float loss = session.TrainStep(step, Seq2SeqInputs.Feed(examples)).Results[TrainingGraph.LossOutput][0];
                if (!float.IsFinite(loss)) throw new UsageException($"the loss became {loss} at step {session.Step}; try a smaller --lr or a longer --warmup");
                intervalLoss += loss;
                intervalSteps++;
                if (averaging.IsSnapshot(session.Step)) average.Add();
                sink.Update(session.Step, $"loss {loss:F4} lr {session.CurrentLearningRate:E2} {intervalSteps / intervalClock.Elapsed.TotalSeconds:F1} steps/s");
                if (session.Step % evalEvery != 0 && session.Step != steps) continue;

                finalLoss = intervalLoss / intervalSteps;
                metrics = evaluator.Evaluate();
                sink.Line(string.Create(CultureInfo.InvariantCulture,
                    $"step {session.Step,6}/{steps}  train_loss {finalLoss:F4}  val_loss {metrics.Loss:F4}  val_token_acc {metrics.TokenAccuracy:F4}  exact_match {metrics.ExactMatch:F4}  lr {session.CurrentLearningRate:E2}  {clock.Elapsed.TotalSeconds:F0} s"));
                if (s.Verbose >= 1) sink.Line("  per length: " + FormatPerLength(metrics));
                if (s.CheckpointPath is not null)
                    SessionCheckpoint.Save(session, model.Graph, s.CheckpointPath, CheckpointConfig(model, s, task, batch, steps, session), stream.GetState());
                (intervalLoss, intervalSteps) = (0, 0);
                intervalClock.Restart();
            }
        });

        metrics ??= evaluator.Evaluate();
        if (average.Count > 0)
        {
            average.Apply();
            metrics = evaluator.Evaluate();
            progress.Line(string.Create(CultureInfo.InvariantCulture,
                $"averaged the parameters of the last {average.Count} snapshots ({averaging.Every} steps apart): val_loss {metrics.Loss:F4}  val_token_acc {metrics.TokenAccuracy:F4}  exact_match {metrics.ExactMatch:F4}"));
            if (s.Verbose >= 1) progress.Line("  per length: " + FormatPerLength(metrics));
            if (s.CheckpointPath is not null)
                SessionCheckpoint.Save(session, model.Graph, s.CheckpointPath, CheckpointConfig(model, s, task, batch, steps, session, average.Count), stream.GetState());
        }
        return new TrainResult(finalLoss, session.Step, 0, metrics.Loss, metrics.ExactMatch, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The paper's checkpoint averaging: the model it reports is the mean of its last five checkpoints.
    /// Snapshots are taken every <c>average_every</c> steps (model file; a fiftieth of the run if it
    /// does not say), the last on the final step; <c>--average</c> or the file's <c>average</c> says how
    /// many (0: none). Only snapshots of this run count, so a run resumed inside the window averages fewer.
    /// The last checkpoint holds the mean: it is what <c>eval</c> reports on and what a later
    /// <c>--resume</c> continues from (the optimizer's moments stay those of the last step).
    /// </summary>
    private static SnapshotSchedule SnapshotAveraging(Seq2SeqSettings s, TrainingDefaults defaults, long steps)
    {
        int count = s.Average ?? (int)defaults.TrainArgs.GetValueOrDefault("average", 0);
        long every = (long)defaults.TrainArgs.GetValueOrDefault("average_every", Math.Max(1, steps / 50));
        if (count < 0) throw new UsageException($"--average must not be negative, got {count}");
        if (every < 1) throw new UsageException($"the model file's average_every must be at least 1, got {every}");
        return new SnapshotSchedule(count, every, steps);
    }

    /// <summary><paramref name="Count"/> snapshots <paramref name="Every"/> steps apart, the last at step <paramref name="Last"/>.</summary>
    private readonly record struct SnapshotSchedule(int Count, long Every, long Last)
    {
        public bool IsSnapshot(long step) => step <= Last && (Last - step) % Every == 0 && (Last - step) / Every < Count;
    }

    public static ITransductionTask CreateTask(string name, int minLength, int maxLength)
    {
        if (minLength < 1 || maxLength < minLength)
            throw new UsageException($"source lengths must satisfy 1 <= min <= max, got {minLength}..{maxLength}");
        return TransductionTasks.Create(name, minLength, maxLength);
    }

    public static string FormatPerLength(Seq2SeqMetrics metrics) =>
        string.Join("  ", metrics.PerLength.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Length}:{p.Accuracy:F3}")));

    private static Dictionary<string, string> CheckpointConfig(LoadedModel model, Seq2SeqSettings s, ITransductionTask task, int batch, long steps, Session session, int averaged = 0)
    {
        string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);
        var config = model.Settings.ToDictionary(kv => kv.Key, kv => CommonOptions.Format(kv.Value));
        config["model_file"] = Path.GetFileName(s.ModelPath);
        config["task"] = task.Name;
        config["min_length"] = Invariant(task.MinLength);
        config["max_length"] = Invariant(task.MaxLength);
        config["eval_per_length"] = Invariant(s.EvalPerLength);
        config["held_out_seed"] = HeldOutSet.DefaultSeed.ToString(CultureInfo.InvariantCulture);
        config["steps"] = Invariant(steps);
        config["batch"] = Invariant(batch);
        config["seed"] = Invariant(s.Seed);
        config["optimizer"] = model.Training.Optimizer;
        config["schedule"] = model.Training.Schedule;
        config["lr"] = CommonOptions.Format(session.Optimizer.LearningRate);
        if (session.Schedule is InverseSqrtSchedule inverse) config["warmup"] = Invariant(inverse.WarmupSteps);
        if (session.Schedule is WarmupCosineSchedule cosine) config["warmup"] = Invariant(cosine.WarmupSteps);
        if (s.Preset is not null) config["preset"] = s.Preset;
        if (averaged > 0) config["averaged_snapshots"] = Invariant(averaged);
        foreach (var pair in s.Overrides) config["set." + pair.Split('=')[0]] = pair.Split('=', 2).ElementAtOrDefault(1) ?? "";
        return config;
    }
}
