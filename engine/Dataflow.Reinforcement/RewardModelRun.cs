using Dataflow.Engine;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Dsl.Layers;
using Dataflow.Graph.Objectives;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>A reward-model run (TRL's RewardTrainer): pairs per step and what every post-training run has.</summary>
public sealed record RewardModelSettings : PostTrainingSettings
{
    public int PairsPerStep { get; init; } = 8;

    public RewardModelSettings Validated()
    {
        if (PairsPerStep < 1) throw new ConfigurationException($"--batch {PairsPerStep}: must be positive");
        ValidateSchedule();
        return this;
    }
}

/// <summary>
/// The reward model as a <see cref="TrainingPlan"/>: a model file with <c>reward = value_head(h)</c>
/// (graph/models/reward.dfg) and the Bradley–Terry loss over each pair's chosen and rejected rows
/// (<see cref="PolicyObjectives.AppendBradleyTerry"/>); evaluated by pairwise accuracy on held-out
/// pairs (the share whose chosen completion gets the higher reward). Started from a language model's
/// checkpoint, it takes the trunk's weights (<see cref="InitialWeights.LoadShared"/>) and a fresh head.
/// </summary>
public static class RewardModelRun
{
    public const string HeldOutAccuracy = "heldout_pair_accuracy";

    /// <param name="config">The reward model's file, overrides and context (its checkpoint stores them, as a language model's does).</param>
    /// <summary>The metric of held-out pairs of one group (a task): <c>GROUP_pair_accuracy</c>.</summary>
    public static string GroupAccuracy(string group) => group + "_pair_accuracy";

    /// <param name="heldOutGroups">The group (task) of each held-out pair, for <see cref="GroupAccuracy"/> beside the overall accuracy; null: none.</param>
    public static TrainingPlan Plan(RewardModelSettings settings, LanguageModelConfig config, ITokenizer tokenizer,
        IReadOnlyList<TokenizedPair> train, IReadOnlyList<TokenizedPair> heldOut, IReadOnlyList<string>? heldOutGroups = null)
    {
        if (heldOutGroups is not null && heldOutGroups.Count != heldOut.Count)
            throw new ArgumentException($"{heldOutGroups.Count} groups for {heldOut.Count} held-out pairs", nameof(heldOutGroups));
        var s = settings.Validated();
        if (train.Count == 0 || heldOut.Count == 0) throw new ConfigurationException("a reward model needs training pairs and held-out pairs");
        var model = config.Load(training: true);
        var inputs = RewardModelInputs.Of(model.Graph);
        PolicyObjectives.AppendBradleyTerry(model.Graph, RewardModelInputs.RewardOutput);
        int perBatch = Math.Min(s.PairsPerStep, train.Count);
        var evaluator = new PairAccuracyEvaluator(config, heldOut, heldOutGroups);
        return PostTrainingRun.Plan("reward_model", s, config, model, tokenizer, new RewardModelBatches(train, inputs, perBatch, config.Context, s.Seed),
            evaluator, 2 * perBatch, evaluator.Attach, new Dictionary<string, string>(),
            loadFrom: (session, graph, path) => InitialWeights.LoadShared(session, graph, path));
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
        var feed = inputs.Feed(RewardModelRun.Sequences(pairs, _order.Next(perBatch)), length);
        feed[PolicyObjectives.ChosenRows] = _rows.Chosen;
        feed[PolicyObjectives.RejectedRows] = _rows.Rejected;
        return new TrainingBatch(_bindings, feed, perBatch);
    }

    public byte[] GetState() => _order.GetState();
    public void SetState(ReadOnlySpan<byte> state) => _order.SetState(state);
}

/// <summary>Held-out pairs: the share whose chosen completion the reward model scores higher, and their mean Bradley–Terry loss.</summary>
internal sealed class PairAccuracyEvaluator(LanguageModelConfig config, IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<string>? groups) : IEvaluator
{
    private RewardModelScorer? _scorer;

    public void Attach(Session session) => _scorer = new RewardModelScorer(session, config);

    public Evaluation Evaluate(Session session)
    {
        var scores = _scorer!.Score(RewardModelRun.Sequences(pairs, [.. Enumerable.Range(0, pairs.Count)]));
        double loss = 0, correct = 0;
        var right = new bool[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            double margin = scores[i] - scores[pairs.Count + i];
            loss += PreferenceMetrics.Softplus(-margin);
            right[i] = margin > 0;
            if (right[i]) correct++;
        }
        var perGroup = groups is null ? [] : groups.Select((g, i) => (Group: g, Right: right[i])).GroupBy(x => x.Group, StringComparer.Ordinal)
            .Select(g => Evaluation.Metric(RewardModelRun.GroupAccuracy(g.Key), g.Count(x => x.Right) / (double)g.Count()));
        return new Evaluation(loss / pairs.Count, [Evaluation.Metric("heldout_bt_loss", loss / pairs.Count), Evaluation.Metric(RewardModelRun.HeldOutAccuracy, correct / pairs.Count), .. perGroup])
        {
            Accuracy = correct / pairs.Count,
        };
    }
}
