using System.Globalization;
using Dataflow.Engine;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Dsl;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>What GRPO, DPO and reward-model runs share: the seed, the step count, how often to evaluate, the learning rate, and where the run starts and writes.</summary>
public abstract record PostTrainingSettings
{
    /// <summary>Seeds the order of the examples and any sampling (parameter initialisation too, when there is no starting checkpoint).</summary>
    public int Seed { get; init; } = 1;
    public long Steps { get; init; } = 100;
    public long EvalEvery { get; init; } = 10;

    /// <summary>Constant over the run; null: the model file's optimizer's.</summary>
    public double? LearningRate { get; init; }

    /// <summary>The checkpoint to start from (SFT before RL): its weights, from step 0 with fresh optimizer moments; null: the model's initialisation.</summary>
    public string? FromCheckpoint { get; init; }
    public string? CheckpointPath { get; init; }
    public string? ResumePath { get; init; }

    protected void ValidateSchedule()
    {
        if (Steps < 1 || EvalEvery < 1) throw new ConfigurationException($"--steps {Steps} and --eval-every {EvalEvery} must be positive");
    }
}

/// <summary>The <see cref="TrainingPlan"/> every post-training run makes: evaluated first, a constant learning rate, the tokenizer in every checkpoint.</summary>
internal static class PostTrainingRun
{
    /// <param name="attach">Called with the session once it holds the starting weights.</param>
    /// <param name="extraConfig">The run's own entries in the checkpoint's config, with its kind under <c>trained_by</c>.</param>
    /// <param name="loadFrom">How <see cref="PostTrainingSettings.FromCheckpoint"/> is loaded; null: it is the same model, whose weights the Trainer loads (<see cref="TrainingPlan.FromPath"/>).</param>
    public static TrainingPlan Plan(string kind, PostTrainingSettings s, LanguageModelConfig config, LoadedModel model, ITokenizer tokenizer,
        IBatchSource batches, IEvaluator evaluator, int batch, Action<Session> attach, IReadOnlyDictionary<string, string> extraConfig,
        Action<Session, Graph.Ir.ComputeGraph, string>? loadFrom = null)
    {
        var optimizer = OptimizerSettings.From(model.Training, s.LearningRate);
        return new TrainingPlan
        {
            Title = $"{kind} {model.Name}",
            Model = model,
            Batches = batches,
            Evaluator = evaluator,
            Steps = s.Steps,
            EvalEvery = s.EvalEvery,
            EvaluateFirst = true,
            Optimizer = optimizer,
            Schedule = new ConstantSchedule(optimizer.LearningRate),
            Seed = s.Seed,
            TokenizerJson = tokenizer.ToJson(),
            Prepare = session =>
            {
                if (loadFrom is not null && s.FromCheckpoint is { } from) loadFrom(session, model.Graph, from);
                attach(session);
            },
            CheckpointConfig = (_, _) => config.ToConfig(model, s.Seed, batch, new Dictionary<string, string>(extraConfig)
            {
                ["trained_by"] = kind,
                ["steps"] = s.Steps.ToString(CultureInfo.InvariantCulture),
            }),
            FromPath = loadFrom is null ? s.FromCheckpoint : null,
            CheckpointPath = s.CheckpointPath,
            ResumePath = s.ResumePath,
        };
    }
}
