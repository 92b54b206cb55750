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
            var step = session.Compile(StepGraph.ForTraining(TestGraphs.Classifier(3, 5), withGradNorm: false), new Dictionary<string, long> { ["B"] = 17 });
            return Enumerable.Range(0, 10).Select(_ => session.TrainStep(step, inputs).Results[StepGraph.LossOutput][0]).ToArray();
        }

        var cpu = Losses(new CpuBackend());
        var ocl = Losses(OpenClBackend.Create());
        Assert.True(ocl[^1] < ocl[0], $"loss did not fall on opencl: {ocl[0]} -> {ocl[^1]}");
        for (int i = 0; i < cpu.Length; i++)
            Assert.True(Math.Abs(cpu[i] - ocl[i]) <= 1e-5 * Math.Max(1, Math.Abs(cpu[i])), $"step {i}: cpu loss {cpu[i]}, opencl {ocl[i]}");
    }
}
