using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl.Layers;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;
using Dataflow.Reinforcement;

namespace Dataflow.Tests.Reinforcement;

/// <summary>The GRPO objective against a hand computation, and the group advantages.</summary>
public sealed class PolicyObjectiveTests
{
    private const double Clip = 0.2, Beta = 0.1;

    /// <summary>
    /// A toy policy whose logits are the parameter itself ([2 sequences, 2 positions, 3 tokens]), fixed
    /// values: the loss and d loss / d logits from the graph equal TRL's formula worked out by hand —
    /// ratio r = e^(logp − old); a token's gradient flows through r·A only where r·A ≤ clip(r)·A; the
    /// k3 penalty adds β·(1 − e^(ref − logp)); everything over the number of unmasked tokens.
    /// </summary>
    [Fact]
    public void LossAndGradientsMatchAHandComputation()
    {
        var logits = TestGraphs.RandomValues(11, 12, -2, 2);
        int[] targets = [2, 0, 1, 1];
        float[] mask = [1, 1, 1, 0];
        float[] advantages = [0.9f, -1.4f];
        // old = logp − δ, so the ratios are e^δ: above the clip range, inside it, below it, and inside (masked out).
        double[] delta = [0.5, 0.05, -0.4, 0.1];
        float[] refLogp = [-1.7f, -0.4f, -2.2f, -1.0f];
        var logp = new double[4];
        var softmax = new double[4][];
        for (int i = 0; i < 4; i++)
        {
            var row = logits.AsSpan(i * 3, 3).ToArray().Select(v => (double)v).ToArray();
            double max = row.Max(), sum = row.Sum(v => Math.Exp(v - max));
            softmax[i] = [.. row.Select(v => Math.Exp(v - max) / sum)];
            logp[i] = row[targets[i]] - max - Math.Log(sum);
        }
        var old = Enumerable.Range(0, 4).Select(i => (float)(logp[i] - delta[i])).ToArray();

        double count = mask.Sum(), expectedLoss = 0;
        var expectedGradient = new double[12];
        for (int i = 0; i < 4; i++)
        {
            if (mask[i] == 0) continue;
            double a = advantages[i / 2], r = Math.Exp(logp[i] - old[i]), clipped = Math.Clamp(r, 1 - Clip, 1 + Clip);
            double d = refLogp[i] - logp[i];
            expectedLoss += (-Math.Min(r * a, clipped * a) + Beta * (Math.Exp(d) - d - 1)) / count;
            double dLogp = ((r * a <= clipped * a ? -r * a : 0) + Beta * (1 - Math.Exp(d))) / count;
            for (int c = 0; c < 3; c++) expectedGradient[i * 3 + c] = dLogp * ((c == targets[i] ? 1 : 0) - softmax[i][c]);
        }

        var graph = new ComputeGraph("toy-policy");
        var b = new GraphBuilder(graph);
        var logitsNode = b.Parameter("logits", Shape.Of(2, 2, 3), Graph.Ops.ParamInit.Zeros);
        var maskNode = b.Input("mask", TensorType.F32(2, 2));
        var tokenLogp = PolicyLosses.TokenLogProbs(b, logitsNode, b.Input("targets", TensorType.I32(2, 2)), maskNode);
        graph.Loss = PolicyLosses.PolicyObjective(b, tokenLogp, b.Input("old", TensorType.F32(2, 2)), b.Input("adv", TensorType.F32(2)),
            maskNode, Clip, b.Input("ref", TensorType.F32(2, 2)), Beta);
        using var session = TestGraphs.SessionWith(graph, new Dictionary<string, float[]> { ["logits"] = logits });
        var step = session.Compile(StepGraph.ForTraining(graph, withGradNorm: false).WithGradientOutputs(), new Dictionary<string, long>());
        var results = session.Run(step, new Dictionary<string, Array>
        {
            ["targets"] = targets, ["mask"] = mask, ["old"] = old, ["adv"] = advantages, ["ref"] = refLogp,
        }).Results;

        Assert.Equal(expectedLoss, results[StepGraph.LossOutput][0], 5);
        var gradient = results[StepGraph.GradientOutput("logits")];
        for (int i = 0; i < 12; i++) Assert.Equal(expectedGradient[i], gradient[i], 5);
        // The clipped token (r = e^0.5 > 1.2 with A > 0) keeps only the KL penalty's gradient: β·(1 − e^(ref − logp)).
        double klOnly = Beta * (1 - Math.Exp(refLogp[0] - logp[0])) / count;
        for (int c = 0; c < 3; c++) Assert.Equal(klOnly * ((c == targets[0] ? 1 : 0) - softmax[0][c]), gradient[c], 5);
    }

    [Fact]
    public void ATiedGroupHasZeroAdvantagesAndIsSkipped()
    {
        var (advantages, skipped) = GroupAdvantages.Compute([1, 1, 1, 1, 0, 1, 0, 0], group: 4, scaleByStd: true);
        Assert.Equal([true, false], skipped);
        Assert.All(advantages[..4], a => Assert.Equal(0, a));
        // Group 2: mean 0.25, unbiased std 0.5: (1 − 0.25)/0.5 = 1.5 and (0 − 0.25)/0.5 = −0.5 (up to TRL's 1e-4 guard).
        Assert.Equal(1.5, advantages[5], 3);
        Assert.Equal(-0.5, advantages[4], 3);
        Assert.Equal(0, advantages[4..].Sum(), 9);
    }

    [Fact]
    public void WithoutStdScalingTheAdvantageIsRewardMinusTheGroupMean()
    {
        var (advantages, skipped) = GroupAdvantages.Compute([0.5, 0.5, 0, 2], group: 2, scaleByStd: false);
        Assert.Equal([true, false], skipped);
        Assert.Equal([0, 0, -1, 1], advantages);
    }
}
