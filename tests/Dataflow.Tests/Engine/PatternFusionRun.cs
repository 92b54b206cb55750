using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;

namespace Dataflow.Tests.Engine;

/// <summary>
/// What the fused-pattern tests share: a one-output model trained for a step on the CPU with Σ y·R as
/// its loss (so every gradient path of y is exercised), the kernel specs it compiled to, the fetched
/// results, and the check that fusion changed no bit of them.
/// </summary>
internal static class PatternFusionRun
{
    /// <summary>Loads <paramref name="source"/> (input <c>x</c>, output <c>y</c>) and gives it the loss Σ y·R over a fed <c>r</c>.</summary>
    public static ComputeGraph WithProductLoss(string file, string source)
    {
        var graph = ModelLoader.LoadSource(file, source, new ModelOptions(Training: true)).Graph;
        var b = new GraphBuilder(graph);
        var y = graph.Outputs["y"];
        graph.Loss = b.ReduceSum(b.Mul(y, b.Input("r", y.Type)), Enumerable.Range(0, y.Shape.Rank));
        return graph;
    }

    /// <summary>One training step of <paramref name="graph"/>, with <c>x</c> and <c>r</c> of <paramref name="elements"/> values each.</summary>
    public static (List<KernelSpec> Specs, Dictionary<string, float[]> Results) Train(
        ComputeGraph graph, Dictionary<string, long> sizes, int elements, CompileOptions options)
    {
        using var session = new Session(new CpuBackend(), seed: 3, options);
        session.DeclareParameters(graph);
        var compiled = session.Compile(StepGraph.ForTraining(graph, withGradNorm: false).WithGradientOutputs(), sizes);
        var inputs = new Dictionary<string, Array> { ["x"] = TestGraphs.RandomValues(5, elements, -2, 3), ["r"] = TestGraphs.RandomValues(6, elements) };
        var results = session.Run(compiled, inputs).Results.ToDictionary(r => r.Key, r => r.Value.ToArray());
        return ([.. compiled.Kernels.Select(k => compiled.World.Spec(compiled.World.Get<KernelInfo>(k)))], results);
    }

    public static void AssertSameBits(Dictionary<string, float[]> fused, Dictionary<string, float[]> unfused)
    {
        Assert.Equal(unfused.Keys.Order(), fused.Keys.Order());
        Assert.True(fused.Count > 2, "the loss, y and the parameters' gradients are fetched");
        foreach (var (name, values) in unfused)
            Assert.True(values.AsSpan().SequenceEqual(fused[name]), $"{name} differs between fused and unfused");
    }
}
