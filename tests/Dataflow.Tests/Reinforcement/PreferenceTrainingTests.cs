using Dataflow.Backends.Cpu;
using Dataflow.Reinforcement;
using Dataflow.Tests.Dsl;
using Dataflow.Training;
using Xunit.Abstractions;

namespace Dataflow.Tests.Reinforcement;

/// <summary>
/// DPO and the reward model on toy preferences over the five-letter alphabet: the chosen completion
/// starts with 'a', the rejected one with another letter, the rest of both random.
/// </summary>
public sealed class PreferenceTrainingTests(ITestOutputHelper output)
{
    private static List<TokenizedPair> Pairs(int seed, int count)
    {
        var random = new Random(seed);
        string Tail() => new([.. Enumerable.Range(0, 2).Select(_ => "abcde"[random.Next(5)])]);
        return [.. Enumerable.Range(0, count).Select(_ => TokenizedPair.Of(
            new PreferencePair("bcde"[random.Next(4)].ToString(), "a" + Tail(), "bcde"[random.Next(4)] + Tail()), ToyPolicies.Letters))];
    }

    [Fact]
    public void DpoStartsAtLogTwoAndItsHeldOutAccuracyAndMarginRise()
    {
        var settings = new DpoSettings { Beta = 0.5, PairsPerStep = 8, Steps = 25, EvalEvery = 5, LearningRate = 5e-3, Seed = 2 };
        var plan = DpoRun.Plan(settings, ToyPolicies.TinyGpt(), ToyPolicies.Letters, Pairs(1, 64), Pairs(2, 32));
        var recorder = new ToyPolicies.Recorder();
        Trainer.Run(plan, new CpuBackend(), recorder);

        // The reference is the starting policy: every margin is 0, so the loss is −log σ(0) = log 2.
        Assert.Equal(Math.Log(2), recorder.Steps[0].Loss, 4);
        Assert.Equal(0, ToyPolicies.Metric(recorder.Steps[0], PreferenceMetrics.Margin), 4);
        var accuracy = recorder.Evaluations.Select(e => e.Evaluation.Accuracy).ToArray();
        var margins = recorder.Evaluations.Select(e => e.Evaluation.Metrics.Single(m => m.Key == PreferenceMetrics.HeldOutPrefix + PreferenceMetrics.Margin).Value).ToArray();
        output.WriteLine("held-out accuracy: " + string.Join(" ", accuracy.Select(a => a.ToString("F2"))) + "; margin: " + string.Join(" ", margins.Select(m => m.ToString("F3"))));
        Assert.True(accuracy[^1] >= 0.9, $"held-out implicit-reward accuracy {accuracy[^1]:F2}");
        Assert.True(margins[^1] > margins[1] && margins[1] > margins[0], $"the held-out margin should grow: {string.Join(", ", margins)}");
    }

    /// <summary>
    /// RPO's term at the first step is α times the chosen replies' per-token NLL under the starting policy,
    /// so the loss is log 2 + α·NLL: linear in α (the same batch and initialisation for every α).
    /// </summary>
    [Fact]
    public void TheRpoTermAddsTheChosenRepliesNllToLogTwo()
    {
        double FirstLoss(double alpha)
        {
            var settings = new DpoSettings { Beta = 0.5, RpoAlpha = alpha, PairsPerStep = 8, Steps = 1, EvalEvery = 1, LearningRate = 5e-3, Seed = 2 };
            var recorder = new ToyPolicies.Recorder();
            Trainer.Run(DpoRun.Plan(settings, ToyPolicies.TinyGpt(), ToyPolicies.Letters, Pairs(1, 64), Pairs(2, 32)), new CpuBackend(), recorder);
            return recorder.Steps[0].Loss;
        }
        double plain = FirstLoss(0), one = FirstLoss(1), two = FirstLoss(2);
        Assert.Equal(Math.Log(2), plain, 4);
        // A freshly initialised policy is near uniform: its per-token NLL is near log V.
        double uniform = Math.Log(ToyPolicies.Letters.VocabSize);
        Assert.InRange(one - plain, 0.8 * uniform, 1.25 * uniform);
        Assert.Equal(2 * (one - plain), two - plain, 4);
    }

    private static LanguageModelConfig TinyRewardModel() => new("reward.dfg", File.ReadAllText(DslTestSupport.ModelPath("reward.dfg")), null, new Dictionary<string, string>
    {
        ["vocab"] = ToyPolicies.Letters.VocabSize.ToString(), ["ctx"] = "8", ["d"] = "16", ["heads"] = "2", ["layers"] = "1", ["dropout"] = "0",
    }, 8);

    [Fact]
    public void TheRewardModelRanksHeldOutPairs()
    {
        var config = TinyRewardModel();
        var settings = new RewardModelSettings { PairsPerStep = 8, Steps = 30, EvalEvery = 30, LearningRate = 5e-3, Seed = 2 };
        var plan = RewardModelRun.Plan(settings, config, ToyPolicies.Letters, Pairs(3, 64), Pairs(4, 50));
        var recorder = new ToyPolicies.Recorder();
        var result = Trainer.Run(plan, new CpuBackend(), recorder);

        output.WriteLine($"held-out pair accuracy {recorder.Evaluations[0].Evaluation.Accuracy:F2} → {result.ValidationAccuracy:F2}");
        Assert.True(result.ValidationAccuracy >= 0.9, $"held-out pairwise accuracy {result.ValidationAccuracy:F2}");
        Assert.True(recorder.Steps[^1].Loss < recorder.Steps[0].Loss);
    }

    /// <summary>A reward model started from a language model's checkpoint takes its trunk (same names and shapes) and a fresh head.</summary>
    [Fact]
    public void ARewardModelStartsFromALanguageModelsTrunk()
    {
        var path = Path.Combine(Path.GetTempPath(), $"dpo-{Guid.NewGuid():N}.ckpt");
        try
        {
            Trainer.Run(DpoRun.Plan(new DpoSettings { Steps = 1, EvalEvery = 1, CheckpointPath = path }, ToyPolicies.TinyGpt(), ToyPolicies.Letters, Pairs(1, 8), Pairs(2, 8)), new CpuBackend());
            var graph = TinyRewardModel().Load(training: false).Graph;
            using var session = new Dataflow.Engine.Sessions.Session(new CpuBackend(), seed: 1);
            var fresh = InitialWeights.LoadShared(session, graph, path);

            // The heads are new (the state's and the log-probability's, named by layer); the unembedding is the trunk's tied wte.
            Assert.Equal(["value_head.weight", "value_head.bias", "value_head_1.weight", "value_head_1.bias"], fresh);
            var saved = Graph.Checkpoints.CheckpointReader.Load(path).Tensors.Single(t => t.Name == "ln_f.weight").AsFloats();
            var loaded = session.Parameters.Get("ln_f.weight");
            Assert.Equal(saved, session.Parameters.Read(loaded.Value, loaded.Elements));
        }
        finally { File.Delete(path); }
    }
}
