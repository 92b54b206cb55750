using System.Buffers.Binary;
using Dataflow.Engine.Data;
using Dataflow.Graph.Objectives;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>
/// GRPO's batch source: each new batch is a rollout of the current policy — <c>Group</c> completions
/// for each of <c>PromptsPerStep</c> prompts (in a seeded order, reshuffled every pass), rewarded by
/// the callback, with group-normalised advantages and the sampling policy's log-probabilities as
/// old_logp (and the reference's as ref_logp under a KL penalty). A tied group is skipped: its rows
/// are masked out, so it neither pulls the policy nor dilutes the token mean. The step's metrics
/// (mean reward, pass@1, pass@G, KL to the reference, mean completion length, skipped groups) ride
/// on the batch to the trainer's observers.
/// </summary>
public sealed class GrpoBatches : IBatchSource
{
    private readonly GrpoSettings _s;
    private readonly GrpoPolicy _policy;
    private readonly IReadOnlyList<int[]> _prompts;
    private readonly BatchRewardFunction _reward;
    private readonly IReadOnlyDictionary<string, long> _bindings;
    private readonly LanguageModelInputs _inputs;
    private readonly ShuffledCycle _order;
    private long _samples;
    private TrainingBatch? _current;
    private int _uses;

    internal GrpoBatches(GrpoSettings s, GrpoPolicy policy, IReadOnlyList<int[]> prompts, BatchRewardFunction reward, LanguageModelInputs inputs)
    {
        (_s, _policy, _prompts, _reward, _inputs) = (s, policy, prompts, reward, inputs);
        Rows = s.PromptsPerStep * s.Group;
        _order = new ShuffledCycle(prompts.Count, s.Seed);
        _bindings = inputs.Bindings(Rows, policy.Model.Context);
    }

    /// <summary>Completions per batch: prompts per step × group.</summary>
    public int Rows { get; }

    public TrainingBatch Next()
    {
        if (_current is not null && _uses < _s.UpdatesPerBatch) { _uses++; return _current; }
        (_current, _uses) = (Rollout(), 1);
        return _current;
    }

    private TrainingBatch Rollout()
    {
        int group = _s.Group;
        var promptIds = _order.Next(_s.PromptsPerStep);
        var prompts = new int[Rows][];
        var seeds = new ulong[Rows];
        for (int r = 0; r < Rows; r++)
        {
            prompts[r] = _prompts[promptIds[r / group]];
            seeds[r] = ((ulong)(uint)_s.Seed << 32) ^ (ulong)_samples++;
        }
        var results = _policy.Rollouts.Sample(prompts, seeds, _s.Rollout);
        var rewards = _reward([.. Enumerable.Range(0, Rows).Select(r => promptIds[r / group])], results);
        if (rewards.Length != Rows) throw new InvalidOperationException($"the reward returned {rewards.Length} rewards for {Rows} completions");
        var (advantages, skipped) = GroupAdvantages.Compute(rewards, group, _s.ScaleByStd);

        var rows = new SequenceRows(Rows, _policy.Model.Context);
        for (int r = 0; r < Rows; r++) rows.Set(r, prompts[r], PolicyRollouts.TrainedTokens(results[r], _s.Rollout));
        for (int g = 0; g < skipped.Length; g++)
            if (skipped[g]) rows.Mask.AsSpan(g * group * rows.Length, group * rows.Length).Clear();

        var old = _policy.Scorer.TokenLogProbs(rows);
        var feed = new Dictionary<string, Array>(StringComparer.Ordinal)
        {
            [_inputs.Tokens] = rows.Tokens, [_inputs.Targets] = rows.Targets, [PolicyObjectives.Mask] = rows.Mask,
            [PolicyObjectives.Advantages] = advantages.Select(a => (float)a).ToArray(), [PolicyObjectives.OldLogp] = old,
        };
        double kl = double.NaN;
        if (_policy.Reference is { } reference)
        {
            var refLogp = reference.Scorer.TokenLogProbs(rows);
            feed[PolicyObjectives.RefLogp] = refLogp;
            kl = MeanKl(rows.Mask, old, refLogp);
        }
        double tokens = rows.Mask.Sum();
        return new TrainingBatch(_bindings, feed, Rows, (long)tokens)
        {
            Metrics = RolloutMetrics.Of(rewards, group, _s.SuccessThreshold, results.Select(r => r.GeneratedTokens).ToArray(), skipped.Count(x => x), kl),
        };
    }

    /// <summary>The k3 estimate of KL(π ‖ π_ref) averaged over the trained tokens (what the loss's penalty sees before the step).</summary>
    private static double MeanKl(float[] mask, float[] logp, float[] refLogp)
    {
        double sum = 0, count = 0;
        for (int i = 0; i < mask.Length; i++)
        {
            if (mask[i] == 0) continue;
            double d = refLogp[i] - logp[i];
            (sum, count) = (sum + Math.Exp(d) - d - 1, count + 1);
        }
        return count > 0 ? sum / count : 0;
    }

    public byte[] GetState()
    {
        var state = new byte[16];
        BinaryPrimitives.WriteInt64LittleEndian(state, _order.Position);
        BinaryPrimitives.WriteInt64LittleEndian(state.AsSpan(8), _samples);
        return state;
    }

    public void SetState(ReadOnlySpan<byte> state)
    {
        if (state.Length != 16) throw new DataException($"the checkpoint's batch state is {state.Length} bytes, not a GRPO run's 16");
        (_order.Position, _samples, _current) = (BinaryPrimitives.ReadInt64LittleEndian(state), BinaryPrimitives.ReadInt64LittleEndian(state[8..]), null);
    }
}
