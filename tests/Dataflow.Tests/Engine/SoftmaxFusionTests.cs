using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The fusion system hands the attention softmax and its gradient to the CPU backend as one softmax
/// and one softmax_backward kernel, writing out what the backward reads, and the result is the
/// unfused ops' to the bit. (LayerGradientCheckTests' softmax and attention cases check the same
/// kernels against finite differences: their sessions compile with fusion on.)
/// </summary>
public sealed class SoftmaxFusionTests
{
    // T = 20: rows of scores longer than one vector, with a remainder.
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 3, ["T"] = 20 };

    private static ComputeGraph Attention()
    {
        const string source = "model attend(d = 16)\ninput x : f32[B, T, d]\ny = attention(x, 2, causal = true)\noutput y\n";
        var graph = ModelLoader.LoadSource("attend.dfg", source, new ModelOptions(Training: true)).Graph;
        var b = new GraphBuilder(graph);
        var y = graph.Outputs["y"];
        graph.Loss = b.ReduceSum(b.Mul(y, b.Input("r", y.Type)), Enumerable.Range(0, y.Shape.Rank));
        return graph;
    }

    private static (List<KernelSpec> Specs, Dictionary<string, float[]> Results) Train(CompileOptions options)
    {
        var graph = Attention();
        using var session = new Session(new CpuBackend(), seed: 3, options);
        session.DeclareParameters(graph);
        var compiled = session.Compile(TrainingGraph.ForTraining(graph, withGradNorm: false).WithGradientOutputs(), Sizes);
        var inputs = new Dictionary<string, Array> { ["x"] = TestGraphs.RandomValues(5, 3 * 20 * 16, -2, 3), ["r"] = TestGraphs.RandomValues(6, 3 * 20 * 16) };
        var results = session.Run(compiled, inputs).Results.ToDictionary(r => r.Key, r => r.Value.ToArray());
        return ([.. compiled.Kernels.Select(k => compiled.World.Spec(compiled.World.Get<KernelInfo>(k)))], results);
    }

    [Fact]
    public void TheSoftmaxAndItsGradientAreOneKernelEach()
    {
        var specs = Train(CompileOptions.Default).Specs;
        var forward = Assert.Single(specs.OfType<SoftmaxSpec>());
        var backward = Assert.Single(specs.OfType<SoftmaxBackwardSpec>());
        // B·heads·T rows of T causal scores.
        Assert.Equal((3L * 2 * 20, 20L), (forward.Rows, forward.Width));
        Assert.Equal((3L * 2 * 20, 20L), (backward.Rows, backward.Width));
        // The backward reads e, Σe and y; the maximum and x − max stay in registers.
        Assert.Equal("Output,Exp,Sum", string.Join(",", forward.Outputs));
        Assert.Equal("Output", string.Join(",", backward.Outputs));
        Assert.DoesNotContain(specs.OfType<OpKernelSpec>(), op => op.Op == Graph.Ops.OpCode.ReduceMax);
    }

    [Fact]
    public void NoFusionRunsEveryOpAlone()
    {
        var specs = Train(CompileOptions.Default with { Fusion = false }).Specs;
        Assert.Empty(specs.OfType<SoftmaxSpec>());
        Assert.Empty(specs.OfType<SoftmaxBackwardSpec>());
    }

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
