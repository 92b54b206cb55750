using System.Globalization;
using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Objectives;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>A GRPO run ready for <see cref="Trainer.Run"/>; dispose it after the run (it holds the rollout generator and the reference).</summary>
public sealed class GrpoPlan : IDisposable
{
    internal GrpoPlan(TrainingPlan plan, GrpoPolicy policy) => (Plan, _policy) = (plan, policy);

    private readonly GrpoPolicy _policy;

    public TrainingPlan Plan { get; }

    public void Dispose() => _policy.Dispose();
}

/// <summary>
/// GRPO as a <see cref="TrainingPlan"/>: the language model with the clipped policy objective as its
/// loss (<see cref="PolicyObjectives.AppendGrpo"/>), rollouts of the current policy as batches
/// (<see cref="GrpoBatches"/>), greedy held-out reward as the evaluation, a constant learning rate,
/// and a checkpoint that <c>generate</c> and <c>eval</c> read like any language model's.
/// </summary>
public static class GrpoRun
{
    /// <param name="prompts">The training problems, as prompt tokens; the reward callback gets an index into them.</param>
    /// <param name="heldOut">Evaluation problems and their reward (index into <paramref name="heldOut"/>'s prompts).</param>
    /// <param name="referenceBackend">Where the frozen reference lives when <see cref="GrpoSettings.Beta"/> &gt; 0 (another instance of the trainer's backend).</param>
    public static GrpoPlan Plan(GrpoSettings settings, LanguageModelConfig config, ITokenizer tokenizer,
        IReadOnlyList<int[]> prompts, RewardFunction reward, (IReadOnlyList<int[]> Prompts, RewardFunction Reward) heldOut,
        Func<IBackend>? referenceBackend = null) =>
        Plan(settings, config, tokenizer, prompts, (ids, completions) => [.. completions.Select((c, r) => reward(ids[r], c))], heldOut, referenceBackend);

    /// <summary>GRPO whose training rollouts are rewarded all at once (a reward model); the held-out evaluation keeps its own per-completion reward (a verifier).</summary>
    public static GrpoPlan Plan(GrpoSettings settings, LanguageModelConfig config, ITokenizer tokenizer,
        IReadOnlyList<int[]> prompts, BatchRewardFunction reward, (IReadOnlyList<int[]> Prompts, RewardFunction Reward) heldOut,
        Func<IBackend>? referenceBackend = null)
    {
        var s = settings.Validated();
        if (prompts.Count == 0) throw new ConfigurationException("GRPO needs at least one training prompt");
        if (heldOut.Prompts.Count == 0) throw new ConfigurationException("GRPO needs at least one held-out prompt to evaluate on");
        foreach (var p in prompts.Concat(heldOut.Prompts))
            if (p.Length == 0 || p.Length >= config.Context)
                throw new ConfigurationException($"a prompt of {p.Length} tokens leaves no room for a completion in the model's context of {config.Context}");
        if (s.Beta > 0 && referenceBackend is null) throw new ConfigurationException($"--kl {s.Beta}: a KL penalty needs a backend for the frozen reference");

        var policyModel = new PolicyModel(config);
        var model = policyModel.Training((graph, inputs) => PolicyObjectives.AppendGrpo(graph, inputs.Logits, inputs.Targets, s.Clip, s.Beta));
        var inputs = LanguageModelInputs.Of(model.Graph);
        int rows = s.PromptsPerStep * s.Group;
        var policy = new GrpoPolicy(policyModel, tokenizer, rows, s.Rollout.PrefillChunk, s.Beta > 0 ? referenceBackend : null);
        var plan = PostTrainingRun.Plan("grpo", s, config, model, tokenizer,
            new GrpoBatches(s, policy, prompts, reward, inputs),
            new RewardEvaluator(policy, heldOut.Prompts, heldOut.Reward, s.Rollout, s.SuccessThreshold),
            rows, policy.Attach, new Dictionary<string, string>
            {
                ["group"] = s.Group.ToString(CultureInfo.InvariantCulture),
                ["prompts_per_step"] = s.PromptsPerStep.ToString(CultureInfo.InvariantCulture),
                ["clip"] = RunSettings.Format(s.Clip),
                ["kl"] = RunSettings.Format(s.Beta),
            });
        return new GrpoPlan(plan, policy);
    }
}
