using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.OpenCL;

/// <summary>The engine end to end on OpenCL: a training step's losses follow the CPU's step for step.</summary>
public sealed class OpenClSessionTests
{
    /// <summary>Logistic regression from primitives: matmul, broadcast add, softmax reductions, one-hot, mean.</summary>
    private static ComputeGraph Classifier()
    {
        var graph = new ComputeGraph("logreg");
        var b = new GraphBuilder(graph);
        var x = b.Input("x", TensorType.F32(Dim.Symbol("B"), 3));
        var label = b.Input("label", TensorType.I32(Dim.Symbol("B")));
        var w = b.Parameter("w", Shape.Of(3, 5), ParamInit.Xavier);
        var bias = b.Parameter("b", Shape.Of(5), ParamInit.Zeros);
        var logits = b.Add(b.MatMul(x, w), bias);
        var max = b.Detach(b.ReduceMax(logits, [-1], keepDims: true));
        var shifted = b.Sub(logits, max);
        var logProbs = b.Sub(shifted, b.Log(b.ReduceSum(b.Exp(shifted), [-1], keepDims: true)));
        var picked = b.ReduceSum(b.Mul(logProbs, b.OneHot(label, 5)), [-1]);
        graph.Loss = b.Neg(b.ReduceMean(picked, [0]));
        return graph;
    }

    [Theory]
    [InlineData(OptimizerKind.Sgd)]
    [InlineData(OptimizerKind.AdamW)]
    public void TrainingLossesMatchTheCpu(OptimizerKind kind)
    {
        var x = TestGraphs.RandomValues(4, 17 * 3);
        var labels = Enumerable.Range(0, 17).Select(i => i * 7 % 5).ToArray();
        var inputs = new Dictionary<string, Array> { ["x"] = x, ["label"] = labels };

        float[] Losses(IBackend backend)
        {
            using var session = new Session(backend, seed: 5) { Optimizer = new OptimizerConfig { Kind = kind, LearningRate = 0.1 } };
            session.Schedule = new ConstantSchedule(0.1);
            var step = session.Compile(TrainingGraph.ForTraining(Classifier(), withGradNorm: false), new Dictionary<string, long> { ["B"] = 17 });
            return Enumerable.Range(0, 10).Select(_ => session.TrainStep(step, inputs).Results[TrainingGraph.LossOutput][0]).ToArray();
        }

        var cpu = Losses(new CpuBackend());
        var ocl = Losses(OpenClBackend.Create());
        Assert.True(ocl[^1] < ocl[0], $"loss did not fall on opencl: {ocl[0]} -> {ocl[^1]}");
        for (int i = 0; i < cpu.Length; i++)
            Assert.True(Math.Abs(cpu[i] - ocl[i]) <= 1e-5 * Math.Max(1, Math.Abs(cpu[i])), $"step {i}: cpu loss {cpu[i]}, opencl {ocl[i]}");
    }
}
