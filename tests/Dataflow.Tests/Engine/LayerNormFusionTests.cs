using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The fusion system hands each lowered layernorm to the CPU backend as one layer_norm kernel,
/// writing out what the backward pass reads, and the result is the unfused ops' to the bit.
/// (LayerGradientCheckTests.LayerNorm checks the same kernel against finite differences.)
/// </summary>
public sealed class LayerNormFusionTests
{
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 3, ["T"] = 5 };

    /// <summary>Two layernorms in a residual block, as a GPT block has them, with Σ y·R as the loss.</summary>
    private static ComputeGraph Block()
    {
        const string source = "model residual(d = 24)\ninput x : f32[B, T, d]\nh = x + linear(layernorm(x), d)\ny = layernorm(h)\noutput y\n";
        var graph = ModelLoader.LoadSource("residual.dfg", source, new ModelOptions(Training: true)).Graph;
        var b = new GraphBuilder(graph);
        var y = graph.Outputs["y"];
        graph.Loss = b.ReduceSum(b.Mul(y, b.Input("r", y.Type)), Enumerable.Range(0, y.Shape.Rank));
        return graph;
    }

    private static (List<LayerNormSpec> Norms, Dictionary<string, float[]> Results) Train(CompileOptions options)
    {
        var graph = Block();
        using var session = new Session(new CpuBackend(), seed: 3, options);
        session.DeclareParameters(graph);
        var compiled = session.Compile(TrainingGraph.ForTraining(graph, withGradNorm: false).WithGradientOutputs(), Sizes);
        var inputs = new Dictionary<string, Array> { ["x"] = TestGraphs.RandomValues(5, 3 * 5 * 24, -2, 3), ["r"] = TestGraphs.RandomValues(6, 3 * 5 * 24) };
        var results = session.Run(compiled, inputs).Results.ToDictionary(r => r.Key, r => r.Value.ToArray());
        return (LayerNormKernels(compiled), results);
    }

    private static List<LayerNormSpec> LayerNormKernels(CompiledGraph compiled) =>
        [.. compiled.Kernels.Select(k => compiled.World.Spec(compiled.World.Get<KernelInfo>(k))).OfType<LayerNormSpec>()];

    [Fact]
    public void EachLayerNormIsOneKernelWritingWhatTheBackwardReads()
    {
        var norms = Train(CompileOptions.Default).Norms;
        Assert.Equal(2, norms.Count);
        Assert.All(norms, norm => Assert.Equal((15, 24), (norm.Rows, norm.Width)));
        // The first norm's input is fed, so only its gain's gradient reads it: Σ g·x̂.
        Assert.Equal("Output,Normalized", string.Join(",", norms[0].Outputs));
        // The gradient flows through the second to the linear layer: it reads the centred rows, σ and x̂,
        // written out so that the backward recomputes no statistic; nothing else is written.
        Assert.Equal("Output,Centered,StandardDeviation,Normalized", string.Join(",", norms[1].Outputs));
    }

    [Fact]
    public void NoFusionRunsEveryOpAlone() =>
        Assert.Empty(Train(CompileOptions.Default with { Fusion = false }).Norms);

    [Fact]
    public void FusedAndUnfusedGiveTheSameBits()
    {
        var fused = Train(CompileOptions.Default).Results;
        var unfused = Train(CompileOptions.Default with { Fusion = false }).Results;
        Assert.Equal(unfused.Keys.Order(), fused.Keys.Order());
        Assert.True(fused.Count > 2, "the loss, y and the parameters' gradients are fetched");
        foreach (var (name, values) in unfused)
            Assert.True(values.AsSpan().SequenceEqual(fused[name]), $"{name} differs between fused and unfused");
    }
}
