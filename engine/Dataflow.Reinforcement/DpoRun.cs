using Dataflow.Engine;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Objectives;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>
/// DPO as a <see cref="TrainingPlan"/>: the language model with the DPO loss over pairs of rows
/// (<see cref="PolicyObjectives.AppendDpo"/>); the reference is the starting policy, whose completion
/// log-probabilities are computed once, before the first step, for every training and held-out pair
/// (so no second copy of the weights is kept); each step logs the implicit rewards, their margin and
/// accuracy (<see cref="PreferenceMetrics"/>), and the evaluation is the same on the held-out pairs.
/// </summary>
public static class DpoRun
{
    public static TrainingPlan Plan(DpoSettings settings, LanguageModelConfig config, ITokenizer tokenizer,
        IReadOnlyList<TokenizedPair> train, IReadOnlyList<TokenizedPair> heldOut)
    {
        var s = settings.Validated();
        if (train.Count == 0 || heldOut.Count == 0) throw new ConfigurationException("DPO needs training pairs and held-out pairs");
        CheckFits(train, "training", config.Context);
        CheckFits(heldOut, "held-out", config.Context);
        var policyModel = new PolicyModel(config);
        var model = policyModel.Training((graph, inputs) => PolicyObjectives.AppendDpo(graph, inputs.Logits, inputs.Targets, s.Beta, s.RpoAlpha));
        var state = new DpoState(policyModel, train, heldOut, Math.Min(s.PairsPerStep, train.Count), config.Context);
        return PostTrainingRun.Plan("dpo", s, config, model, tokenizer, new DpoBatches(state, LanguageModelInputs.Of(model.Graph), s),
            new DpoEvaluator(state, s.Beta), 2 * state.PerBatch, state.Attach, new Dictionary<string, string> { ["beta"] = RunSettings.Format(s.Beta), ["rpo_alpha"] = RunSettings.Format(s.RpoAlpha) });
    }

    private static void CheckFits(IReadOnlyList<TokenizedPair> pairs, string which, int context)
    {
        for (int i = 0; i < pairs.Count; i++)
            if (pairs[i].Prompt.Length == 0 || pairs[i].Prompt.Length >= context)
                throw new ConfigurationException($"{which} pair {i + 1}: its prompt is {pairs[i].Prompt.Length} tokens, which leaves no room for a completion in the model's context of {context}");
    }
}

/// <summary>The scorer on the trainer's session and the reference's cached log-probabilities, filled in before the first step.</summary>
internal sealed class DpoState(PolicyModel policy, IReadOnlyList<TokenizedPair> train, IReadOnlyList<TokenizedPair> heldOut, int perBatch, int length)
{
    public IReadOnlyList<TokenizedPair> Train { get; } = train;
    public IReadOnlyList<TokenizedPair> HeldOut { get; } = heldOut;
    public int PerBatch { get; } = perBatch;
    public int Length { get; } = length;
    public PolicyScorer Scorer { get; private set; } = null!;
    public (double[] Chosen, double[] Rejected) TrainReference { get; private set; }
    public (double[] Chosen, double[] Rejected) HeldOutReference { get; private set; }

    /// <summary>The session holds the starting policy now: it is the reference.</summary>
    public void Attach(Session session)
    {
        Scorer = new PolicyScorer(session, policy);
        TrainReference = PairRows.Score(Scorer, Train, PerBatch, Length);
        HeldOutReference = PairRows.Score(Scorer, HeldOut, PerBatch, Length);
    }
}

/// <summary>DPO's batches: pairs in a seeded order, the reference's cached log-probabilities, and the step's implicit-reward metrics.</summary>
internal sealed class DpoBatches(DpoState state, LanguageModelInputs inputs, DpoSettings s) : IBatchSource
{
    private readonly ShuffledCycle _order = new(state.Train.Count, s.Seed);
    private readonly (int[] Chosen, int[] Rejected) _rows = PairRows.Indices(state.PerBatch);
    private readonly Dictionary<string, long> _bindings = new(inputs.Bindings(2 * state.PerBatch, state.Length)) { [PolicyObjectives.PairsSymbol] = state.PerBatch };

    public TrainingBatch Next()
    {
        var picked = _order.Next(state.PerBatch);
        var rows = PairRows.Sequences(state.Train, picked, state.Length);
        var refChosen = picked.Select(i => state.TrainReference.Chosen[i]).ToArray();
        var refRejected = picked.Select(i => state.TrainReference.Rejected[i]).ToArray();
        // The policy as the step sees it, for the metrics (one forward pass more per step).
        var scores = state.Scorer.SequenceLogProbs(rows);
        var (_, _, metrics) = PreferenceMetrics.Of(scores[..state.PerBatch], scores[state.PerBatch..], refChosen, refRejected, s.Beta);
        var feed = new Dictionary<string, Array>(StringComparer.Ordinal)
        {
            [inputs.Tokens] = rows.Tokens, [inputs.Targets] = rows.Targets, [PolicyObjectives.Mask] = rows.Mask,
            [PolicyObjectives.ChosenRows] = _rows.Chosen, [PolicyObjectives.RejectedRows] = _rows.Rejected,
            [PolicyObjectives.RefChosen] = refChosen.Select(v => (float)v).ToArray(), [PolicyObjectives.RefRejected] = refRejected.Select(v => (float)v).ToArray(),
        };
        return new TrainingBatch(_bindings, feed, state.PerBatch, (long)rows.Mask.Sum()) { Metrics = metrics };
    }

    public byte[] GetState() => _order.GetState();
    public void SetState(ReadOnlySpan<byte> bytes) => _order.SetState(bytes);
}

/// <summary>The held-out pairs' DPO loss, implicit rewards, margin and accuracy under the current policy.</summary>
internal sealed class DpoEvaluator(DpoState state, double beta) : IEvaluator
{
    public Evaluation Evaluate(Session session)
    {
        var (chosen, rejected) = PairRows.Score(state.Scorer, state.HeldOut, state.PerBatch, state.Length);
        var (loss, accuracy, metrics) = PreferenceMetrics.Of(chosen, rejected, state.HeldOutReference.Chosen, state.HeldOutReference.Rejected, beta, PreferenceMetrics.HeldOutPrefix);
        return new Evaluation(loss, metrics) { Accuracy = accuracy };
    }
}
