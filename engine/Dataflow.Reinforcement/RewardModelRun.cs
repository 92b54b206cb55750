using System.Globalization;
using Dataflow.Engine;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Dsl.Layers;
using Dataflow.Graph.Objectives;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>A reward-model run (TRL's RewardTrainer): pairs per step, the schedule, where it writes.</summary>
public sealed record RewardModelSettings
{
    public int PairsPerStep { get; init; } = 8;
    public int Seed { get; init; } = 1;
    public long Steps { get; init; } = 100;
    public long EvalEvery { get; init; } = 10;
    public double? LearningRate { get; init; }
    public string? CheckpointPath { get; init; }
    public string? ResumePath { get; init; }
}

/// <summary>
/// The reward model as a <see cref="TrainingPlan"/>: a model file with <c>reward = value_head(h)</c>
/// (graph/models/reward.dfg) and the Bradley–Terry loss over each pair's chosen and rejected rows
/// (<see cref="PolicyObjectives.AppendBradleyTerry"/>); evaluated by pairwise accuracy on held-out
/// pairs (the share whose chosen completion gets the higher reward).
/// </summary>
public static class RewardModelRun
{
    public const string HeldOutAccuracy = "heldout_pair_accuracy";

    /// <param name="config">The reward model's file, overrides and context (its checkpoint stores them, as a language model's does).</param>
    public static TrainingPlan Plan(RewardModelSettings s, LanguageModelConfig config, ITokenizer tokenizer,
        IReadOnlyList<TokenizedPair> train, IReadOnlyList<TokenizedPair> heldOut)
    {
        if (s.PairsPerStep < 1) throw new ConfigurationException($"--batch {s.PairsPerStep}: must be positive");
        if (s.Steps < 1 || s.EvalEvery < 1) throw new ConfigurationException($"--steps {s.Steps} and --eval-every {s.EvalEvery} must be positive");
        if (train.Count == 0 || heldOut.Count == 0) throw new ConfigurationException("a reward model needs training pairs and held-out pairs");
        var model = config.Load(training: true);
        var inputs = RewardModelInputs.Of(model.Graph);
        PolicyObjectives.AppendBradleyTerry(model.Graph, RewardModelInputs.RewardOutput);
        int perBatch = Math.Min(s.PairsPerStep, train.Count);
        var optimizer = OptimizerSettings.From(model.Training, s.LearningRate);
        var evaluator = new PairAccuracyEvaluator(config, heldOut);
        return new TrainingPlan
        {
            Title = $"reward model {model.Name}",
            Model = model,
            Batches = new RewardModelBatches(train, inputs, perBatch, config.Context, s.Seed),
            Evaluator = evaluator,
            Steps = s.Steps,
            EvalEvery = s.EvalEvery,
            EvaluateFirst = true,
            Optimizer = optimizer,
            Schedule = new ConstantSchedule(optimizer.LearningRate),
            Seed = s.Seed,
            TokenizerJson = tokenizer.ToJson(),
            Prepare = evaluator.Attach,
            CheckpointConfig = (_, _) => config.ToConfig(model, s.Seed, 2 * perBatch, new Dictionary<string, string>
            {
                ["trained_by"] = "reward_model",
                ["steps"] = s.Steps.ToString(CultureInfo.InvariantCulture),
            }),
            CheckpointPath = s.CheckpointPath,
            ResumePath = s.ResumePath,
        };
    }

    internal static (int[] Prompt, int[] Completion)[] Sequences(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<int> picked) =>
        [.. picked.Select(i => (pairs[i].Prompt, pairs[i].Chosen)), .. picked.Select(i => (pairs[i].Prompt, pairs[i].Rejected))];
}

internal sealed class RewardModelBatches(IReadOnlyList<TokenizedPair> pairs, RewardModelInputs inputs, int perBatch, int length, int seed) : IBatchSource
{
    private readonly ShuffledCycle _order = new(pairs.Count, seed);
    private readonly (int[] Chosen, int[] Rejected) _rows = PairRows.Indices(perBatch);
    private readonly Dictionary<string, long> _bindings = new(inputs.Bindings(2 * perBatch, length)) { [PolicyObjectives.PairsSymbol] = perBatch };

    public TrainingBatch Next()
    {
        var (tokens, last) = RewardModelInputs.Pack(RewardModelRun.Sequences(pairs, _order.Next(perBatch)), length);
        return new TrainingBatch(_bindings, new Dictionary<string, Array>(StringComparer.Ordinal)
        {
            [inputs.Tokens] = tokens, [ValueHead.LastInput] = last,
            [PolicyObjectives.ChosenRows] = _rows.Chosen, [PolicyObjectives.RejectedRows] = _rows.Rejected,
        }, perBatch);
    }

    public byte[] GetState() => _order.GetState();
    public void SetState(ReadOnlySpan<byte> state) => _order.SetState(state);
}

/// <summary>Held-out pairs: the share whose chosen completion the reward model scores higher, and their mean Bradley–Terry loss.</summary>
internal sealed class PairAccuracyEvaluator(LanguageModelConfig config, IReadOnlyList<TokenizedPair> pairs) : IEvaluator
{
    private RewardModelScorer? _scorer;

    public void Attach(Session session) => _scorer = new RewardModelScorer(session, config);

    public Evaluation Evaluate(Session session)
    {
        var scores = _scorer!.Score(RewardModelRun.Sequences(pairs, [.. Enumerable.Range(0, pairs.Count)]));
        double loss = 0, correct = 0;
        for (int i = 0; i < pairs.Count; i++)
        {
            double margin = scores[i] - scores[pairs.Count + i];
            loss += PreferenceMetrics.Softplus(-margin);
            if (margin > 0) correct++;
        }
        return new Evaluation(loss / pairs.Count, [Evaluation.Metric("heldout_bt_loss", loss / pairs.Count), Evaluation.Metric(RewardModelRun.HeldOutAccuracy, correct / pairs.Count)])
        {
            Accuracy = correct / pairs.Count,
        };
    }
}
