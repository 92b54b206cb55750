using Dataflow.Backends.Cpu;
using Dataflow.Backends.OpenCL;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ops;

namespace Dataflow.Tests.Engine;

/// <summary>
/// Placement per kernel (ggml's scheduler): a backend with a capability hole still trains, the
/// kernels it refuses running on the CPU fallback with copy kernels around them.
/// </summary>
public sealed class FallbackPlacementTests
{
    private static readonly Dictionary<string, long> Batch = new() { ["B"] = 17 };

    /// <summary>A real backend that refuses one op the model uses, as a device lacking a kernel would; everything else it runs itself.</summary>
    private sealed class Without(IBackend inner, OpCode refused) : ForwardingBackend(inner)
    {
        public override Dataflow.Engine.Backends.Support SupportsOp(KernelSpec spec) =>
            spec is OpKernelSpec op && op.Op == refused ? Dataflow.Engine.Backends.Support.No($"no {op.DisplayName} kernel here") : Inner.SupportsOp(spec);
    }

    private static float[] Losses(IBackend backend, Action<CompiledProgram>? inspect = null)
    {
        var x = TestGraphs.RandomValues(4, 17 * 3);
        var labels = Enumerable.Range(0, 17).Select(i => i * 7 % 5).ToArray();
        var inputs = new Dictionary<string, Array> { ["x"] = x, ["label"] = labels };
        using var session = new Session(backend, seed: 5) { Optimizer = new OptimizerConfig { Kind = OptimizerKind.AdamW, LearningRate = 0.1 } };
        session.Schedule = new ConstantSchedule(0.1);
        var step = session.Compile(StepGraph.ForTraining(TestGraphs.Classifier(3, 5), withGradNorm: true), Batch);
        inspect?.Invoke(step);
        return [.. Enumerable.Range(0, 10).Select(_ => session.TrainStep(step, inputs).Results[StepGraph.LossOutput][0])];
    }

    private static void AssertSameLosses(float[] expected, float[] actual, string what)
    {
        Assert.True(actual[^1] < actual[0], $"loss did not fall {what}: {actual[0]} -> {actual[^1]}");
        for (int i = 0; i < expected.Length; i++)
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-5 * Math.Max(1, Math.Abs(expected[i])), $"step {i}: cpu alone {expected[i]}, {what} {actual[i]}");
    }

    [Fact]
    public void ACpuWithoutMatMulTrainsLikeTheCpuWithTheMatMulsOnTheFallbackBetweenCopies()
    {
        var primary = new Without(new CpuBackend(), OpCode.MatMul);
        var fallback = new CpuBackend();
        var losses = Losses(new WithFallback(primary, fallback), step =>
        {
            var world = step.World;
            var placed = step.Kernels.Select(k => (Info: world.Get<KernelInfo>(k), Backend: world.Backend(world.Get<Placement>(k)))).ToList();
            var matmuls = placed.Where(p => world.Spec(p.Info) is OpKernelSpec { Op: OpCode.MatMul }).ToList();
            Assert.NotEmpty(matmuls);
            Assert.All(matmuls, m => Assert.Same(fallback, m.Backend));
            Assert.All(placed.Where(p => world.Spec(p.Info) is not (OpKernelSpec { Op: OpCode.MatMul } or TransferSpec)), p => Assert.Same(primary, p.Backend));

            // Each matmul reads copies made on the CPU by a copy kernel before it, and its result
            // reaches the device's kernels through a copy kernel after it.
            var copies = placed.Where(p => world.Spec(p.Info) is TransferSpec).ToList();
            foreach (var (info, _) in matmuls)
            {
                foreach (var input in world.Inputs(info))
                {
                    Assert.True(world.Has<CopyOf>(input), $"k{info.Order} reads a tensor that lives on the device");
                    Assert.Same(fallback, world.Backend(world.Get<Residence>(input)));
                    Assert.Contains(copies, c => world.Outputs(c.Info)[0] == input && c.Info.Order < info.Order && c.Backend == fallback);
                }
                var output = world.Outputs(info)[0];
                Assert.Contains(copies, c => world.Inputs(c.Info)[0] == output && c.Info.Order > info.Order && c.Backend == primary);
            }
            var shown = step.DescribePlacement();
            Assert.Contains("matmul", shown);
            Assert.Contains($"{copies.Count} copies", shown);
            Assert.Contains("no matmul kernel here", shown);
        });
        AssertSameLosses(Losses(new CpuBackend()), losses, "with matmul on the fallback");
    }

    [Fact]
    public void OpenClWithoutReduceMaxTrainsLikeTheCpu()
    {
        // The log-softmax's max runs on the CPU; its gradients and the rest stay on OpenCL.
        var losses = Losses(new WithFallback(new Without(OpenClBackend.Create(), OpCode.ReduceMax), new CpuBackend()), step =>
        {
            var backends = step.Kernels.Select(k => step.World.Backend(step.World.Get<Placement>(k)).Name).ToList();
            Assert.Contains("cpu", backends);
            Assert.Contains(step.Kernels, k => step.World.Spec(step.World.Get<KernelInfo>(k)) is TransferSpec);
        });
        AssertSameLosses(Losses(new CpuBackend()), losses, "on opencl without reduce_max");
    }

    [Fact]
    public void AKernelNeitherBackendRunsIsReportedByName()
    {
        var backend = new WithFallback(new Without(new CpuBackend(), OpCode.MatMul), new Without(new CpuBackend(), OpCode.MatMul));
        var error = Assert.Throws<CompileException>(() => Losses(backend));
        Assert.Contains("cannot run kernel matmul", error.Message);
        Assert.Contains("nor can its fallback cpu", error.Message);
    }

    [Fact]
    public void WithoutAFallbackAnUnsupportedKernelIsStillAnError()
    {
        var error = Assert.Throws<CompileException>(() => Losses(new Without(new CpuBackend(), OpCode.MatMul)));
        Assert.Contains("backend cpu cannot run kernel matmul: no matmul kernel here", error.Message);
    }
}
