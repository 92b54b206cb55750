using System.Globalization;
using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Optim;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Training.Tasks;

namespace Dataflow.Training;

/// <summary>
/// Encoder–decoder training on a generated transduction task as a <see cref="TrainingPlan"/>: the
/// held-out set and the training stream, the model file's optimizer and schedule (the paper's Adam
/// and warm-up/inverse-square-root for transformer.dfg), greedy-decoding exact match on the held-out
/// set every so often, and the paper's checkpoint averaging at the end.
/// </summary>
public static class Seq2SeqRun
{
    public static TrainingPlan Plan(Seq2SeqSettings s)
    {
        var (model, evalModel) = s.LoadModels();
        var inputs = Seq2SeqInputs.Of(model.Graph);
        var task = TransductionTasks.Create(s.Task, s.MinLength, s.MaxLength);
        var heldOut = HeldOutSet.Create(task, s.EvalPerLength);

        var defaults = model.Training;
        long steps = s.Steps ?? (long)defaults.TrainArgs.GetValueOrDefault("steps", 2000);
        int batch = s.Batch ?? (int)defaults.TrainArgs.GetValueOrDefault("batch", 64);
        if (steps < 1 || batch < 1) throw new ConfigurationException($"--steps and --batch must be positive (got {steps} and {batch})");
        // Source, decoder input and decoder target, each up to the longest sequence plus BOS/EOS.
        MemoryBudget.HostArray(3L * batch * (s.MaxLength + 2), sizeof(int), $"sequence batches of {batch} × {s.MaxLength + 2}");
        long evalEvery = s.EvalEvery ?? Math.Max(1, steps / 10);
        if (evalEvery < 1) throw new ConfigurationException($"the evaluation interval must be positive, got {evalEvery}");
        var optimizer = OptimizerSettings.From(defaults, s.LearningRate);
        var scheduleArgs = new Dictionary<string, double>(defaults.ScheduleArgs);
        if (s.Warmup is { } warmup)
        {
            if (warmup < 0) throw new ConfigurationException($"--warmup must not be negative, got {warmup}");
            scheduleArgs["warmup"] = warmup;
        }
        // As for a classifier, a decaying schedule's horizon comes from the model file, so a resumed run follows the same rates.
        long horizon = (long)defaults.TrainArgs.GetValueOrDefault("steps", steps);
        var schedule = LearningRateSchedule.FromArgs(defaults.Schedule, optimizer.LearningRate, horizon, scheduleArgs);
        return new TrainingPlan
        {
            Title = $"train {model.Name} on {task.Name}",
            Model = model,
            Batches = new Seq2SeqBatches(new TransductionStream(task, heldOut, (ulong)s.Seed), inputs, batch),
            Evaluator = new Seq2SeqEvaluator(evalModel.Graph, inputs, heldOut),
            Steps = steps,
            EvalEvery = evalEvery,
            Optimizer = optimizer,
            Schedule = schedule,
            Averaging = SnapshotAveraging(s, defaults, steps),
            CheckResumed = checkpoint => CheckTask(checkpoint, s.ResumePath!, task),
            CheckpointConfig = (_, averaged) => CheckpointConfig(model, s, task, batch, steps, optimizer, schedule, averaged),
            Seed = s.Seed, Compile = s.Compile, CheckpointPath = s.CheckpointPath, ResumePath = s.ResumePath, Patience = s.Patience, Verbose = s.Verbose,
        };
    }

    private static void CheckTask(Checkpoint checkpoint, string path, ITransductionTask task)
    {
        var saved = checkpoint.Header.Config.GetValueOrDefault("task");
        if (saved is not null && saved != task.Name)
            throw new ConfigurationException($"{path} was trained on --task {saved}, not {task.Name}");
    }

    /// <summary>
    /// The paper's checkpoint averaging: the model it reports is the mean of its last five checkpoints.
    /// Snapshots are taken every <c>average_every</c> steps (model file; a fiftieth of the run if it
    /// does not say), the last on the final step; <c>--average</c> or the file's <c>average</c> says how
    /// many (0: none). Only snapshots of this run count, so a run resumed inside the window averages fewer.
    /// The last checkpoint holds the mean: it is what <c>eval</c> reports on and what a later
    /// <c>--resume</c> continues from (the optimizer's moments stay those of the last step).
    /// </summary>
    private static SnapshotSchedule? SnapshotAveraging(Seq2SeqSettings s, TrainingDefaults defaults, long steps)
    {
        int count = s.Average ?? (int)defaults.TrainArgs.GetValueOrDefault("average", 0);
        long every = (long)defaults.TrainArgs.GetValueOrDefault("average_every", Math.Max(1, steps / 50));
        if (count < 0) throw new ConfigurationException($"--average must not be negative, got {count}");
        if (every < 1) throw new ConfigurationException($"the model file's average_every must be at least 1, got {every}");
        return count == 0 ? null : new SnapshotSchedule(count, every, steps);
    }

    private static Dictionary<string, string> CheckpointConfig(LoadedModel model, Seq2SeqSettings s, ITransductionTask task, int batch, long steps,
        OptimizerConfig optimizer, LearningRateSchedule schedule, int averaged)
    {
        string Invariant(long v) => v.ToString(CultureInfo.InvariantCulture);
        var config = s.BaseConfig(model, batch);
        config["task"] = task.Name;
        config["min_length"] = Invariant(task.MinLength);
        config["max_length"] = Invariant(task.MaxLength);
        config["eval_per_length"] = Invariant(s.EvalPerLength);
        config["held_out_seed"] = HeldOutSet.DefaultSeed.ToString(CultureInfo.InvariantCulture);
        config["steps"] = Invariant(steps);
        config["schedule"] = model.Training.Schedule;
        config["lr"] = RunSettings.Format(optimizer.LearningRate);
        if (schedule is InverseSqrtSchedule inverse) config["warmup"] = Invariant(inverse.WarmupSteps);
        if (schedule is WarmupCosineSchedule cosine) config["warmup"] = Invariant(cosine.WarmupSteps);
        if (averaged > 0) config["averaged_snapshots"] = Invariant(averaged);
        return config;
    }
}
