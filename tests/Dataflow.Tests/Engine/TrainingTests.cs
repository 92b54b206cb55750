using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Engine;

/// <summary>The frame schedule end to end: feed, dispatch, optimize, fetch on a model that must learn.</summary>
public sealed class TrainingTests
{
    private static (float[] X, int[] Labels) Points(int seed, int count)
    {
        var random = new Random(seed);
        var x = new float[count * 2];
        var labels = new int[count];
        for (int i = 0; i < count; i++)
        {
            x[2 * i] = (float)(random.NextDouble() * 2 - 1);
            x[2 * i + 1] = (float)(random.NextDouble() * 2 - 1);
            labels[i] = x[2 * i] + 0.5f * x[2 * i + 1] > 0 ? 1 : 0;
        }
        return (x, labels);
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.Adam)]
    [InlineData(OptimizerKind.AdamW)]
    public void LossFallsAndTheModelLearns(OptimizerKind kind)
    {
        var graph = TestGraphs.Classifier(2, 2);
        using var session = new Session(new CpuBackend(), seed: 3)
        {
            Optimizer = new OptimizerConfig { Kind = kind, LearningRate = kind == OptimizerKind.Sgd ? 0.5 : 0.05 },
        };
        session.Schedule = new ConstantSchedule(session.Optimizer.LearningRate);
        var step = session.Compile(StepGraph.ForTraining(graph, withGradNorm: false), new Dictionary<string, long> { ["B"] = 32 });
        var (x, labels) = Points(1, 32);
        var inputs = new Dictionary<string, Array> { ["x"] = x, ["label"] = labels };

        float first = session.TrainStep(step, inputs).Results[StepGraph.LossOutput][0];
        float last = first;
        for (int i = 0; i < 200; i++) last = session.TrainStep(step, inputs).Results[StepGraph.LossOutput][0];

        Assert.True(last < first * 0.5, $"loss went from {first} to {last}");
        Assert.Equal(201, session.Step);
    }

    [Fact]
    public void ClippingReportsTheGlobalGradientNorm()
    {
        var graph = TestGraphs.Classifier(2, 2);
        using var session = new Session(new CpuBackend(), seed: 3) { Optimizer = OptimizerConfig.Sgd(0.1) with { ClipNorm = 1e-3 } };
        var step = session.Compile(StepGraph.ForTraining(graph, withGradNorm: true), new Dictionary<string, long> { ["B"] = 8 });
        var (x, labels) = Points(2, 8);
        var w0 = session.Parameters.Read(session.Parameters.Get("w").Value, 4);
        var frame = session.TrainStep(step, new Dictionary<string, Array> { ["x"] = x, ["label"] = labels });
        var w1 = session.Parameters.Read(session.Parameters.Get("w").Value, 4);
        Assert.True(frame.GradientNorm > 1e-3);
        // Clipped to norm 1e-3 with lr 0.1: no weight moves more than 1e-4.
        Assert.All(w0.Zip(w1), p => Assert.True(Math.Abs(p.First - p.Second) <= 1.0001e-4, $"{p.First} -> {p.Second}"));
    }

    [Fact]
    public void FeedingTheWrongShapeNamesTheInput()
    {
        var graph = TestGraphs.Classifier(2, 2);
        using var session = new Session(new CpuBackend(), seed: 3);
        var step = session.Compile(StepGraph.ForwardOnly(graph), new Dictionary<string, long> { ["B"] = 4 });
        var error = Assert.Throws<FeedException>(() => session.Run(step, new Dictionary<string, Array> { ["x"] = new float[7], ["label"] = new int[4] }));
        Assert.Contains("'x'", error.Message);
        Assert.Contains("f32[4,2]", error.Message);
    }

    [Fact]
    public void WeightDecayShrinksMatricesButNotBiasesOrGains()
    {
        var graph = new ComputeGraph("decay");
        var b = new GraphBuilder(graph);
        var w = b.Parameter("w", Shape.Of(2, 2), ParamInit.Ones);
        var bias = b.Parameter("b", Shape.Of(2), ParamInit.Ones);
        // Zero gradients: only the decoupled decay can move a parameter.
        graph.Loss = b.Add(b.ReduceSum(b.Mul(w, b.Scalar(0)), [0, 1]), b.ReduceSum(b.Mul(bias, b.Scalar(0)), [0]));
        using var session = new Session(new CpuBackend(), seed: 1)
        {
            Optimizer = new OptimizerConfig { Kind = OptimizerKind.AdamW, LearningRate = 0.1, WeightDecay = 0.5 },
        };
        session.Schedule = new ConstantSchedule(0.1);
        var step = session.Compile(StepGraph.ForTraining(graph, withGradNorm: false), new Dictionary<string, long>());
        session.TrainStep(step, new Dictionary<string, Array>());
        Assert.All(session.Parameters.Read(session.Parameters.Get("w").Value, 4), v => Assert.Equal(0.95f, v, 6));
        Assert.All(session.Parameters.Read(session.Parameters.Get("b").Value, 2), v => Assert.Equal(1f, v));
    }
}
