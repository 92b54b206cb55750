using System.Diagnostics;
using System.Globalization;
using Dataflow.Engine.Data;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Training;

/// <summary>
/// nanoGPT's train.py for a model file, top to bottom: tokenize the text and split it 90/10, draw
/// random windows, AdamW with warm-up and cosine decay over --steps, and every EvalInterval steps
/// (and at the end) estimate train and validation loss on a dropout-free copy of the model, print
/// them and checkpoint; the loss it reports in the end is the whole validation split's
/// (<see cref="LanguageModelEvaluator"/>). The checkpoint carries the tokenizer and the model text, so
/// <c>generate</c> needs nothing else.
/// </summary>
public static class LanguageModelTrainer
{
    public static TrainResult Run(LanguageModelSettings s, ProgressSink progress)
    {
        var resumed = s.ResumePath is null ? null : CheckpointReader.Load(s.ResumePath);
        string text = TextCorpus.Read(s.TextPath);
        // A resumed run keeps the tokenizer it was trained with (a BPE would be retrained otherwise).
        var tokenizer = resumed?.TokenizerJson is { } json ? TokenizerFactory.FromJson(json) : TokenizerFactory.Create(s.Tokenizer, text);
        var config = Configure(s, tokenizer);
        var model = config.Load(training: true);
        var evalModel = config.Load(training: false);
        var inputs = LanguageModelInputs.Of(model.Graph);
        var corpus = TextCorpus.Encode(text, tokenizer, s.TextPath);
        var trainData = new TokenBatchSampler(corpus.Train, config.Context);
        var validationData = new TokenBatchSampler(corpus.Validation, config.Context);

        var defaults = model.Training;
        int steps = s.Steps ?? (int)defaults.TrainArgs.GetValueOrDefault("steps", 5000);
        int batch = s.Batch ?? (int)defaults.TrainArgs.GetValueOrDefault("batch", 12);
        int evalInterval = s.EvalInterval ?? Math.Max(1, Math.Min(250, steps / 4));
        int evalIters = s.EvalIters ?? 50;
        if (steps < 1 || batch < 1 || evalInterval < 1 || evalIters < 1)
            throw new UsageException($"--steps, --batch, --eval-interval and --eval-iters must be positive (got {steps}, {batch}, {evalInterval}, {evalIters})");
        var optimizer = OptimizerConfig.FromArgs(defaults.Optimizer, defaults.OptimizerArgs);
        if (s.LearningRate is { } lr) optimizer = optimizer with { LearningRate = lr };
        var schedule = Schedule(s, defaults, optimizer.LearningRate, steps);

        using var session = new Session(BackendFactory.Create(s.Backend), s.Seed, s.Compile) { Optimizer = optimizer, Schedule = schedule };
        var bindings = inputs.Bindings(batch, config.Context);
        var step = session.Compile(TrainingGraph.ForTraining(model.Graph, withGradNorm: optimizer.ClipNorm > 0), bindings);
        var inference = TrainingGraph.ForInference(evalModel.Graph);
        var evaluate = session.Compile(inference, bindings);
        var random = new SeededRandom((ulong)s.Seed);
        if (s.ResumePath is not null)
        {
            var checkpoint = SessionCheckpoint.Load(session, model.Graph, s.ResumePath);
            random.SetState(checkpoint.RngState);
            progress.Line($"resumed from {s.ResumePath} at step {session.Step}");
        }
        progress.Line(string.Create(CultureInfo.InvariantCulture,
            $"{model.Name}: {model.Graph.ParameterCount() / 1e6:F2}M parameters; {tokenizer.Kind} tokenizer, vocab {tokenizer.VocabSize}; " +
            $"{corpus.Train.Length} train / {corpus.Validation.Length} val tokens; batch {batch} × context {config.Context}; " +
            $"lr {schedule.Peak:G3} → {schedule.MinLearningRate:G3}, warmup {schedule.WarmupSteps}, {steps} steps"));
        if (s.Verbose >= 1) progress.Line($"device: {session.Backend.Device.Name} ({session.Backend.Name}); {step.KernelCount} kernels per step, {evaluate.KernelCount} per evaluation");
        if (s.Verbose >= 3) progress.Line(step.Describe(withTimings: false));

        var tokens = new int[batch * config.Context];
        var targets = new int[batch * config.Context];
        var fed = new Dictionary<string, Array> { [inputs.Tokens] = tokens, [inputs.Targets] = targets };
        var clock = Stopwatch.StartNew();
        var training = new Stopwatch();
        (double Train, double Validation) losses = (double.NaN, double.NaN);
        long firstStep = session.Step;

        void Evaluate(ProgressSink sink)
        {
            // Its own generator per evaluation, so evaluating never shifts the training batches.
            var evalRandom = new SeededRandom(((ulong)(uint)s.Seed << 32) ^ (ulong)session.Step ^ 0xE7A1UL);
            double Mean(TokenBatchSampler data)
            {
                double sum = 0;
                for (int i = 0; i < evalIters; i++)
                {
                    data.Next(evalRandom, tokens, targets);
                    sum += session.Run(evaluate, fed, [TrainingGraph.LossOutput]).Results[TrainingGraph.LossOutput][0];
                }
                return sum / evalIters;
            }
            losses = (Mean(trainData), Mean(validationData));
            sink.Line(string.Create(CultureInfo.InvariantCulture, $"step {session.Step}: train loss {losses.Train:F4}, val loss {losses.Validation:F4}"));
            if (s.CheckpointPath is not null && session.Step > firstStep)
                SessionCheckpoint.Save(session, model.Graph, s.CheckpointPath, CheckpointConfig(config, model, s, batch, steps), random.GetState(), tokenizer.ToJson());
        }

        progress.Run($"train {model.Name}", steps, sink =>
        {
            if (session.Step == 0) Evaluate(sink);
            while (session.Step < steps)
            {
                trainData.Next(random, tokens, targets);
                training.Start();
                float loss = session.TrainStep(step, fed).Results[TrainingGraph.LossOutput][0];
                training.Stop();
                if (!float.IsFinite(loss)) throw new UsageException($"the loss became {loss} at step {session.Step}; try a smaller --lr");
                double msPerStep = training.Elapsed.TotalMilliseconds / (session.Step - firstStep);
                sink.Update(session.Step, string.Create(CultureInfo.InvariantCulture, $"loss {loss:F4} lr {session.Schedule.At(session.Step - 1):E2} {msPerStep:F1} ms/step"));
                if (session.Step % evalInterval == 0 || session.Step == steps) Evaluate(sink);
            }
            if (session.Step == firstStep && firstStep > 0) Evaluate(sink);    // resumed at or past --steps
        });

        // The estimates above come from random windows; the number to report is the whole split's.
        var validation = LanguageModelEvaluator.Evaluate(session, inference, inputs, corpus.Validation, config.Context, batch);
        progress.Line(string.Create(CultureInfo.InvariantCulture,
            $"validation loss over the whole split: {validation.Loss:F4} ({validation.Tokens} tokens in {validation.Windows} windows; perplexity {validation.Perplexity:F2})"));
        long trained = session.Step - firstStep;
        progress.Line(string.Create(CultureInfo.InvariantCulture,
            $"trained {trained} steps in {training.Elapsed.TotalSeconds:F1} s ({(trained > 0 ? training.Elapsed.TotalMilliseconds / trained : 0):F1} ms/step); {clock.Elapsed.TotalSeconds:F1} s in all"));
        if (s.Verbose >= 2)
        {
            // Forward and backward without the update, so profiling leaves the trained model as it is.
            step.Profile = true;
            for (int i = 0; i < 5; i++) session.Run(step, fed, [TrainingGraph.LossOutput]);
            step.Profile = false;
            progress.Line(step.Describe(withTimings: true));
        }
        return new TrainResult(losses.Train, session.Step, 0, validation.Loss, double.NaN, clock.Elapsed.TotalSeconds);
    }

    /// <summary>
    /// The model options of this run: the user's preset and overrides, plus <c>vocab</c> set to the
    /// tokenizer's size (an explicit smaller --set vocab is an error; a larger one pads, as nanoGPT's 50304).
    /// </summary>
    private static LanguageModelConfig Configure(LanguageModelSettings s, ITokenizer tokenizer)
    {
        var overrides = new Dictionary<string, string>(CommonOptions.ParseOverrides(s.Overrides), StringComparer.Ordinal);
        if (overrides.TryGetValue("vocab", out var given))
        {
            if (!int.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out int vocab) || vocab < tokenizer.VocabSize)
                throw new UsageException($"--set vocab={given}: the {tokenizer.Kind} tokenizer needs a vocabulary of at least {tokenizer.VocabSize}");
        }
        else overrides["vocab"] = tokenizer.VocabSize.ToString(CultureInfo.InvariantCulture);

        // Loading from the path first gives the usual diagnostics (an unreadable file, a bad --set).
        var probe = ModelLoader.Load(s.ModelPath, new ModelOptions(s.Preset, overrides, Training: false));
        string source = File.ReadAllText(s.ModelPath);
        if (!probe.Settings.TryGetValue("ctx", out var ctx) || ctx < 1 || ctx != Math.Floor(ctx))
            throw new UsageException($"model {probe.Name}: a language model needs a whole-number parameter 'ctx' (the context length)");
        return new LanguageModelConfig(Path.GetFileName(s.ModelPath), source, s.Preset, overrides, (int)ctx);
    }

    /// <summary>
    /// nanoGPT's schedule: linear warm-up, then cosine decay to min-lr at --steps (lr_decay_iters =
    /// max_iters). The defaults follow the model file's schedule line, but warm-up never takes more than
    /// a tenth of the run, and min-lr is a tenth of the peak unless the file or --min-lr says otherwise.
    /// </summary>
    private static WarmupCosineSchedule Schedule(LanguageModelSettings s, TrainingDefaults defaults, double peak, int steps)
    {
        bool fileCosine = defaults.Schedule is "warmup_cosine" or "cosine";
        double minLr = s.MinLearningRate
            ?? (s.LearningRate is null && fileCosine && defaults.ScheduleArgs.TryGetValue("min_lr", out var m) ? m : peak / 10);
        int warmup = s.Warmup ?? (int)Math.Min(defaults.ScheduleArgs.GetValueOrDefault("warmup", 0), steps / 10);
        if (minLr < 0 || minLr > peak) throw new UsageException($"--min-lr {minLr} must be between 0 and the peak learning rate {peak}");
        if (warmup < 0) throw new UsageException($"--warmup {warmup} must not be negative");
        return new WarmupCosineSchedule(peak, minLr, warmup, steps);
    }

    private static Dictionary<string, string> CheckpointConfig(LanguageModelConfig config, LoadedModel model, LanguageModelSettings s, int batch, int steps) =>
        config.ToConfig(model, new Dictionary<string, string>
        {
            ["tokenizer"] = s.Tokenizer,
            ["batch"] = batch.ToString(CultureInfo.InvariantCulture),
            ["steps"] = steps.ToString(CultureInfo.InvariantCulture),
            ["seed"] = s.Seed.ToString(CultureInfo.InvariantCulture),
            ["optimizer"] = model.Training.Optimizer,
        });
}
