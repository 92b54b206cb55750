using Dataflow.Backends.Cpu;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.Dsl;
using Dataflow.Training;

namespace Dataflow.Tests.Engine;

/// <summary>Turns the ECS checks off while it measures, so it runs alone.</summary>
[CollectionDefinition(nameof(TrainStepAllocationTests), DisableParallelization = true)]
public sealed class TrainStepAllocationCollection;

/// <summary>
/// A steady training step (feed, every kernel, the optimizer, the loss read back) allocates no
/// managed memory: the session refills one frame per graph, the kernels' parallel loops take their
/// state by value, and the loss is read into the caller's array. Before, a baby GPT step allocated
/// about 14 KB (loop closures, per-step frames and optimizer scalars, resource-change messages built
/// and never thrown, a bound-buffer array for the grouped optimizer) and an MLP step about 1.4 KB.
/// </summary>
[Collection(nameof(TrainStepAllocationTests))]
public class TrainStepAllocationTests
{
    [Theory]
    [InlineData("gpt.dfg", true, 2)]
    [InlineData("gpt.dfg", false, 2)]
    [InlineData("gpt.dfg", true, 12)]
    [InlineData("mlp.dfg", true, 0)]
    [InlineData("mlp.dfg", false, 0)]
    public void A_steady_training_step_allocates_nothing(string modelFile, bool fusion, int layers)
    {
        // The tiny GPT (embedding, attention, layer norm, GELU, cross-entropy, AdamW with clipping) and a
        // narrow MLP with dropout on (its mask kernel runs every step) under Adam. At GPT-2's 12 layers the
        // gradient norm's fused sum of squares reads 148 parameters, a program of more than 256 instructions
        // (its per-instruction state once came from the heap: 3.9 KB a step).
        var overrides = modelFile == "gpt.dfg"
            ? new Dictionary<string, string>(Dataflow.Tests.LanguageModels.TinyGpt.Overrides) { ["layers"] = $"{layers}" }
            : new Dictionary<string, string> { ["hidden"] = "32" };
        var model = ModelLoader.Load(DslTestSupport.ModelPath(modelFile), new ModelOptions(null, overrides, Training: true));
        var optimizer = OptimizerSettings.From(model.Training, learningRate: null);
        using var session = new Session(new CpuBackend(), seed: 5, CompileOptions.Default with { Fusion = fusion }) { Optimizer = optimizer };
        var bindings = new Dictionary<string, long> { ["B"] = 4, ["T"] = Dataflow.Tests.LanguageModels.TinyGpt.Context };
        var graph = session.Compile(StepGraph.ForTraining(model.Graph, withGradNorm: optimizer.ClipNorm > 0), bindings);
        var inputs = Inputs(model.Graph, bindings);
        var into = new Dictionary<string, float[]> { [StepGraph.LossOutput] = new float[1] };

        for (int i = 0; i < 30; i++) session.TrainStep(graph, inputs, into: into);    // JIT, first-use caches, optimizer state
        EcsChecks.Enabled = false;                                                     // the access check records every run, which allocates
        try
        {
            var steps = new long[20];
            for (int i = 0; i < steps.Length; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                session.TrainStep(graph, inputs, into: into);
                steps[i] = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            Assert.True(steps.All(b => b == 0), $"steady steps allocated {string.Join(" ", steps)} bytes");
        }
        finally
        {
            EcsChecks.Enabled = true;
        }
        // The steps ran: the loss read into the caller's array is a finite cross-entropy.
        Assert.True(float.IsFinite(into[StepGraph.LossOutput][0]));
    }

    /// <summary>Fixed pseudo-random values for every input: i32 below 10 (a class, a token of the 11-token vocabulary), f32 in [0, 1).</summary>
    private static Dictionary<string, Array> Inputs(Dataflow.Graph.Ir.ComputeGraph graph, IReadOnlyDictionary<string, long> bindings)
    {
        var random = new Random(3);
        var inputs = new Dictionary<string, Array>(StringComparer.Ordinal);
        foreach (var (name, node) in graph.Inputs)
        {
            int count = (int)node.Shape.Dims.Aggregate(1L, (n, d) => n * d.Evaluate(bindings));
            inputs[name] = node.DType == DType.I32
                ? Enumerable.Range(0, count).Select(_ => random.Next(10)).ToArray()
                : Enumerable.Range(0, count).Select(_ => random.NextSingle()).ToArray();
        }
        return inputs;
    }
}
