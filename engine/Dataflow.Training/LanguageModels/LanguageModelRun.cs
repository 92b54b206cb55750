using System.Globalization;
using Dataflow.Engine;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;

namespace Dataflow.Training;

/// <summary>
/// nanoGPT's train.py for a model file, as a <see cref="TrainingPlan"/>: tokenize the text and split
/// it 90/10, draw random windows, AdamW with warm-up and cosine decay over --steps, and every
/// EvalInterval steps (and at step 0 and the end) estimate train and validation loss on a
/// dropout-free copy of the model and checkpoint; the loss reported in the end is the whole
/// validation split's (<see cref="LanguageModelEvaluator"/>). The checkpoint carries the tokenizer and
/// the model text, so generation needs nothing else.
/// </summary>
public static class LanguageModelRun
{
    /// <summary>The plan, and a line describing the run (parameters, tokenizer, split, schedule) for people.</summary>
    public static (TrainingPlan Plan, string Description) Plan(LanguageModelSettings s)
    {
        if (s.Lora is not null && s.FromPath is null)
            throw new ConfigurationException("--lora trains adapters on a base model: give its checkpoint with --from");
        if (s.Lora is not null && s.ResumePath is not null)
            throw new ConfigurationException("--resume with --lora is not supported (an adapter file keeps no optimizer state); start again with --from");
        var resumed = s.ResumePath is null ? null : CheckpointReader.Load(s.ResumePath);
        var start = s.FromPath is null || resumed is not null ? null : CheckpointReader.Load(s.FromPath);
        if (start is not null) s = FromBase(s, start);
        string text = s.Text ?? TextCorpus.Read(s.TextPath);
        // A resumed or fine-tuned run keeps the tokenizer it was trained with (a BPE would be retrained otherwise).
        var tokenizer = (resumed ?? start)?.TokenizerJson is { } json ? TokenizerFactory.FromJson(json) : s.TokenizerInstance ?? TokenizerFactory.Create(s.Tokenizer, text);
        var config = Configure(s, tokenizer);
        var model = config.Load(training: true);
        var evalModel = config.Load(training: false);
        var inputs = LanguageModelInputs.Of(model.Graph);
        var corpus = TextCorpus.Encode(text, tokenizer, s.TextPath);

        var defaults = model.Training;
        int steps = s.Steps ?? (int)defaults.TrainArgs.GetValueOrDefault("steps", 5000);
        int batch = s.Batch ?? (int)defaults.TrainArgs.GetValueOrDefault("batch", 12);
        int evalInterval = s.EvalInterval ?? (int)defaults.TrainArgs.GetValueOrDefault("eval_interval", Math.Max(1, Math.Min(250, steps / 4)));
        int evalIters = s.EvalIters ?? (int)defaults.TrainArgs.GetValueOrDefault("eval_iters", 50);
        if (steps < 1 || batch < 1 || evalInterval < 1 || evalIters < 1)
            throw new ConfigurationException($"--steps, --batch, --eval-interval and --eval-iters must be positive (got {steps}, {batch}, {evalInterval}, {evalIters})");
        var optimizer = OptimizerSettings.From(defaults, s.LearningRate);
        var schedule = Schedule(s, defaults, optimizer.LearningRate, steps);
        var plan = new TrainingPlan
        {
            Title = $"train {model.Name}",
            Model = model,
            Batches = new LanguageModelBatches(corpus.Train, inputs, batch, config.Context, (ulong)s.Seed),
            Evaluator = new LanguageModelEstimate(evalModel.Graph, inputs, corpus, batch, config.Context, evalIters, s.Seed),
            FinalEvaluator = new LanguageModelEvaluator(evalModel.Graph, inputs, corpus.Validation, config.Context, batch),
            Steps = steps,
            EvalEvery = evalInterval,
            EvaluateFirst = true,
            Optimizer = optimizer,
            Schedule = schedule,
            TokenizerJson = tokenizer.ToJson(),
            CheckpointConfig = (_, _) => config.ToConfig(model, s.Seed, batch, new Dictionary<string, string>
            {
                ["tokenizer"] = s.Tokenizer,
                ["steps"] = steps.ToString(CultureInfo.InvariantCulture),
            }),
            Seed = s.Seed, Compile = s.Compile, CheckpointPath = s.CheckpointPath, ResumePath = s.ResumePath, Patience = s.Patience, Verbose = s.Verbose,
            FromPath = s.FromPath, Lora = config.Lora,
        };
        string description = string.Create(CultureInfo.InvariantCulture,
            $"{model.Name}: {DescribeParameters(model)}; {tokenizer.Kind} tokenizer, vocab {tokenizer.VocabSize}; " +
            $"{corpus.Train.Length} train / {corpus.Validation.Length} val tokens; batch {batch} × context {config.Context}; " +
            $"lr {schedule.Peak:G3} → {schedule.MinLearningRate:G3}, warmup {schedule.WarmupSteps}, {steps} steps");
        return (plan, description);
    }

    /// <summary>"0.81M parameters", or for LoRA the trainable count and its share of the frozen base.</summary>
    public static string DescribeParameters(LoadedModel model)
    {
        var graph = model.Graph;
        if (!graph.Parameters.Any(p => !p.Trainable)) return string.Create(CultureInfo.InvariantCulture, $"{graph.ParameterCount() / 1e6:F2}M parameters");
        long trainable = graph.TrainableParameters.Sum(p => p.Node.Shape.ElementCount());
        long frozen = graph.Parameters.Where(p => !p.Trainable).Sum(p => p.Node.Shape.ElementCount());
        return string.Create(CultureInfo.InvariantCulture,
            $"LoRA {model.Graph.Parameters.Count(p => p.Trainable && p.Name.EndsWith("." + LoraConfig.ASuffix, StringComparison.Ordinal))} adapters{TokenRows(graph)}: {trainable:N0} trainable parameters, {100.0 * trainable / frozen:F2}% of the frozen base's {frozen:N0}");
    }

    private static string TokenRows(ComputeGraph graph) =>
        graph.TrainableParameters.FirstOrDefault(p => p.Name.EndsWith("." + LoraConfig.TokenRowsSuffix, StringComparison.Ordinal)) is { } rows
            ? string.Create(CultureInfo.InvariantCulture, $" and {rows.Node.Shape[0]} token rows")
            : "";

    /// <summary>A fine-tuning run's settings: the base's preset and overrides under the run's own (the tokenizer comes from the base too).</summary>
    private static LanguageModelSettings FromBase(LanguageModelSettings s, Checkpoint start)
    {
        var stored = LanguageModelConfig.FromCheckpoint(start.Header, s.FromPath!);
        var overrides = new Dictionary<string, string>(stored.Overrides, StringComparer.Ordinal);
        foreach (var (key, value) in s.Overrides) overrides[key] = value;
        return s with { Preset = s.Preset ?? stored.Preset, Overrides = overrides };
    }

    /// <summary>
    /// The model text and options the run trains and its checkpoint stores: the vocabulary comes from
    /// the tokenizer unless the overrides say otherwise (a smaller vocab is an error; a larger one pads, as nanoGPT's 50304).
    /// </summary>
    private static LanguageModelConfig Configure(LanguageModelSettings s, ITokenizer tokenizer)
    {
        var overrides = new Dictionary<string, string>(s.Overrides, StringComparer.Ordinal);
        if (overrides.TryGetValue("vocab", out var given))
        {
            if (!int.TryParse(given, NumberStyles.None, CultureInfo.InvariantCulture, out int vocab) || vocab < tokenizer.VocabSize)
                throw new ConfigurationException($"--set vocab={given}: the {tokenizer.Kind} tokenizer needs a vocabulary of at least {tokenizer.VocabSize}");
        }
        else overrides["vocab"] = tokenizer.VocabSize.ToString(CultureInfo.InvariantCulture);

        // Loading from the path first gives the usual diagnostics (an unreadable file, a bad --set).
        var probe = ModelLoader.Load(s.ModelPath, new ModelOptions(s.Preset, overrides, Training: false));
        string source = File.ReadAllText(s.ModelPath);
        if (!probe.Settings.TryGetValue("ctx", out var ctx) || ctx < 1 || ctx != Math.Floor(ctx))
            throw new ConfigurationException($"model {probe.Name}: a language model needs a whole-number parameter 'ctx' (the context length)");
        return new LanguageModelConfig(Path.GetFileName(s.ModelPath), source, s.Preset, overrides, (int)ctx) { Lora = s.Lora?.Resolve(probe.DeclaredLora, tokenizer.SpecialTokens.Values) };
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
        if (minLr < 0 || minLr > peak) throw new ConfigurationException($"--min-lr {minLr} must be between 0 and the peak learning rate {peak}");
        if (warmup < 0) throw new ConfigurationException($"--warmup {warmup} must not be negative");
        return new WarmupCosineSchedule(peak, minLr, warmup, steps);
    }
}
