using Dataflow.Backends.Cpu;
using Dataflow.Generation;
using Dataflow.Reinforcement;
using Dataflow.Training;
using Xunit.Abstractions;

namespace Dataflow.Tests.Reinforcement;

/// <summary>
/// GRPO end to end on a toy: a randomly initialised character GPT is rewarded when its completion
/// starts with the letter 'a' (one in five at the start). Rollouts come from the batched generator on
/// the training session, so each step samples the policy as updated by the last.
/// </summary>
public sealed class GrpoToyTests(ITestOutputHelper output)
{
    private static readonly int[][] Prompts = [.. "bcde".Select(c => ToyPolicies.Letters.Encode(c.ToString()))];

    private static double StartsWithA(int prompt, GenerationResult completion) => completion.Text.StartsWith('a') ? 1 : 0;

    private static GrpoSettings Settings(long steps, double beta = 0) => new()
    {
        Group = 8, PromptsPerStep = 4, Steps = steps, EvalEvery = steps, LearningRate = 1e-2, Beta = beta, Seed = 3,
        Rollout = new RolloutOptions(MaxTokens: 3),
    };

    [Fact]
    public void TheRewardRisesOverThirtySteps()
    {
        using var grpo = GrpoRun.Plan(Settings(30), ToyPolicies.TinyGpt(), ToyPolicies.Letters, Prompts, StartsWithA, (Prompts, StartsWithA));
        var recorder = new ToyPolicies.Recorder();
        var log = new StringWriter();
        using (var metrics = new JsonlMetricsObserver(log)) Trainer.Run(grpo.Plan, new CpuBackend(), recorder, metrics);

        var rewards = recorder.Steps.Select(s => ToyPolicies.Metric(s, RolloutMetrics.MeanReward)).ToArray();
        Assert.Equal(30, rewards.Length);
        output.WriteLine("mean reward per step: " + string.Join(" ", rewards.Select(r => r.ToString("F2"))));
        double first = rewards[..5].Average(), last = rewards[^5..].Average();
        Assert.True(first < 0.45, $"the untrained policy should rarely start with 'a' (mean reward {first:F2} over the first 5 steps)");
        Assert.True(last > first + 0.3, $"the mean reward should rise clearly: {first:F2} over the first 5 steps, {last:F2} over the last 5");
        // pass@G ≥ pass@1 always; a completion is at most 3 tokens.
        Assert.All(recorder.Steps, s => Assert.True(ToyPolicies.Metric(s, RolloutMetrics.PassAtGroup) >= ToyPolicies.Metric(s, RolloutMetrics.PassAt1)));
        Assert.All(recorder.Steps, s => Assert.InRange(ToyPolicies.Metric(s, RolloutMetrics.CompletionLength), 1, 3));
        // Evaluated greedily before the first step and after the last: the held-out pass rate went up.
        var passes = recorder.Evaluations.Select(e => e.Evaluation.Accuracy).ToArray();
        Assert.True(passes[^1] > passes[0], $"held-out greedy pass rate {passes[0]:F2} → {passes[^1]:F2}");
        // The metrics log carries the rollout's numbers on every step line.
        var stepLines = log.ToString().Split('\n').Where(l => l.Contains("\"event\":\"step\"")).ToArray();
        Assert.Equal(30, stepLines.Length);
        Assert.All(stepLines, l => Assert.Contains("\"mean_reward\":", l));
        Assert.All(stepLines, l => Assert.Contains("\"skipped_groups\":", l));
    }

    [Fact]
    public void TheKlToAnIdenticalReferenceIsZeroAtTheFirstStep()
    {
        var path = Path.Combine(Path.GetTempPath(), $"grpo-{Guid.NewGuid():N}.ckpt");
        try
        {
            using var grpo = GrpoRun.Plan(Settings(4, beta: 0.05) with { CheckpointPath = path }, ToyPolicies.TinyGpt(), ToyPolicies.Letters,
                Prompts, StartsWithA, (Prompts, StartsWithA), referenceBackend: () => new CpuBackend());
            var recorder = new ToyPolicies.Recorder();
            Trainer.Run(grpo.Plan, new CpuBackend(), recorder);

            var kl = recorder.Steps.Select(s => ToyPolicies.Metric(s, RolloutMetrics.Kl)).ToArray();
            Assert.Equal(0, kl[0]);
            Assert.True(kl[^1] > 0, $"after updates the policy moves away from the frozen reference (KL {kl[^1]})");

            // The checkpoint is a language model's like any other: the generator opens it alone.
            using var generator = Generator.Open(path, new CpuBackend(), new GeneratorOptions());
            generator.Submit(new GenerationRequest(Prompts[0]) { MaxTokens = 3, Sampling = new SamplingOptions(Temperature: 0) });
            Assert.Equal(3, generator.Run().Single().GeneratedTokens);
        }
        finally { File.Delete(path); }
    }

    [Fact]
    public void ARunFromACheckpointStartsAtStepZeroWithItsWeights()
    {
        var path = Path.Combine(Path.GetTempPath(), $"grpo-{Guid.NewGuid():N}.ckpt");
        try
        {
            var first = new ToyPolicies.Recorder();
            using (var grpo = GrpoRun.Plan(Settings(3) with { CheckpointPath = path }, ToyPolicies.TinyGpt(), ToyPolicies.Letters, Prompts, StartsWithA, (Prompts, StartsWithA)))
                Trainer.Run(grpo.Plan, new CpuBackend(), first);

            var saved = Graph.Checkpoints.CheckpointReader.Load(path);
            Assert.Equal(3, saved.Header.Step);
            var second = new ToyPolicies.Recorder();
            (long Step, float[] Embedding)? start = null;
            using (var grpo = GrpoRun.Plan(Settings(2) with { FromCheckpoint = path, Seed = 9 }, ToyPolicies.TinyGpt(), ToyPolicies.Letters, Prompts, StartsWithA, (Prompts, StartsWithA)))
            {
                var prepare = grpo.Plan.Prepare!;
                Trainer.Run(grpo.Plan with
                {
                    Prepare = session =>
                    {
                        prepare(session);
                        var wte = session.Parameters.Get("wte.weight");
                        start = (session.Step, session.Parameters.Read(wte.Value, wte.Elements));
                    },
                }, new CpuBackend(), second);
            }

            Assert.Equal(0, start!.Value.Step);
            Assert.Equal(saved.Tensors.Single(t => t.Name == "wte.weight").AsFloats(), start.Value.Embedding);
            Assert.Equal([1, 2], second.Steps.Select(s => s.Step));
        }
        finally { File.Delete(path); }
    }
}
