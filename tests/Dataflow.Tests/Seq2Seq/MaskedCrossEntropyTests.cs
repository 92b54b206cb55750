using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Dsl.Layers;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.Dsl;

namespace Dataflow.Tests.Seq2Seq;

/// <summary><c>cross_entropy(..., ignore = id)</c>: padded targets count for nothing, in the value and in the gradient.</summary>
public sealed class MaskedCrossEntropyTests
{
    private const int B = 2, T = 3, C = 4;
    private static readonly float[] Logits = Enumerable.Range(0, B * T * C).Select(i => MathF.Sin(i * 1.3f) * 2).ToArray();
    private static readonly int[] Targets = [3, 1, 0, 2, 0, 0];   // 0 is padding: three real targets

    /// <summary>-Σ q·log_softmax over the listed flat positions, divided by their count.</summary>
    private static double Expected(IEnumerable<int> positions, double smoothing)
    {
        double sum = 0;
        int n = 0;
        foreach (var p in positions)
        {
            var row = Logits.Skip(p * C).Take(C).Select(v => (double)v).ToArray();
            var logSum = Math.Log(row.Sum(Math.Exp));
            for (int c = 0; c < C; c++) sum -= ((1 - smoothing) * (Targets[p] == c ? 1 : 0) + smoothing / C) * (row[c] - logSum);
            n++;
        }
        return n == 0 ? 0 : sum / n;
    }

    private static float Loss(string call, int[] targets)
    {
        var model = ModelLoader.LoadSource("m.dfg", $"model m\ninput x : f32[B, T, {C}]\ninput y : i32[B, T]\nloss = {call}\n", new ModelOptions(Training: false));
        var eval = new FloatReference(new Dictionary<string, long> { ["B"] = B, ["T"] = T },
            new Dictionary<string, float[]> { ["x"] = Logits, ["y"] = targets.Select(t => (float)t).ToArray() });
        return eval.Run(model.Graph.Loss!).Data[0];
    }

    [Fact]
    public void The_mean_is_over_the_targets_that_are_not_ignored()
    {
        Assert.Equal(Expected([0, 1, 3], 0.1), Loss("cross_entropy(x, y, label_smoothing = 0.1, ignore = 0)", Targets), 5);
        Assert.Equal(Expected([0, 1, 3], 0), Loss("cross_entropy(x, y, ignore = 0)", Targets), 5);
        // Without ignore, padding counts like any class: the old behaviour is unchanged.
        Assert.Equal(Expected(Enumerable.Range(0, B * T), 0.1), Loss("cross_entropy(x, y, label_smoothing = 0.1)", Targets), 5);
        Assert.Equal(Expected(Enumerable.Range(0, B * T), 0.1), Loss("cross_entropy(x, y, label_smoothing = 0.1, ignore = none)", Targets), 5);
    }

    [Fact]
    public void A_batch_of_nothing_but_padding_has_loss_zero_not_nan()
    {
        Assert.Equal(0f, Loss("cross_entropy(x, y, ignore = 0)", new int[B * T]));
    }

    [Fact]
    public void The_ignored_id_must_be_a_class()
    {
        var d = DslTestSupport.Diagnose($"model m\ninput x : f32[B, {C}]\ninput y : i32[B]\nloss = cross_entropy(x, y, ignore = -100)\n");
        Assert.Contains("ignore must be a class index in [0, 4)", d.Message);
    }

    [Fact]
    public void Padded_positions_get_no_gradient_on_the_cpu_backend()
    {
        var graph = new ComputeGraph("masked");
        var b = new GraphBuilder(graph);
        var logits = b.Parameter("logits", Shape.Of(B, T, C), ParamInit.Zeros);
        var targets = b.Input("y", TensorType.I32(B, T));
        graph.Loss = Losses.CrossEntropy(b, logits, targets, 0.1, ignore: 0);
        using var session = TestGraphs.SessionWith(graph, new Dictionary<string, float[]> { ["logits"] = Logits });
        var step = session.Compile(StepGraph.ForTraining(graph, withGradNorm: false).WithGradientOutputs(), new Dictionary<string, long>());
        var results = session.Run(step, new Dictionary<string, Array> { ["y"] = Targets }).Results;

        Assert.Equal(Expected([0, 1, 3], 0.1), results[StepGraph.LossOutput][0], 5);
        var gradient = results[StepGraph.GradientOutput("logits")];
        for (int p = 0; p < B * T; p++)
        {
            var row = gradient.AsSpan(p * C, C).ToArray();
            if (Targets[p] == 0) Assert.All(row, g => Assert.Equal(0f, g));
            // d/dlogits of the mean over 3 targets: (softmax - q) / 3, which sums to zero over the row.
            else Assert.Equal(0, row.Sum(), 5);
            if (Targets[p] != 0) Assert.Contains(row, g => Math.Abs(g) > 1e-3);
        }
    }
}
