using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ops;
using Dataflow.Tests.Autodiff;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The fusion system hands cross_entropy (plain, and masked with <c>ignore</c>) and its gradient to the CPU
/// backend as one cross_entropy and one cross_entropy_backward kernel, writing out what the backward reads;
/// every gradient is the unfused ops' to the bit, and the loss theirs up to the order of the total's sum.
/// Finite differences check the same kernels (FiniteDifference's sessions compile with fusion on).
/// </summary>
public sealed class CrossEntropyFusionTests
{
    // B·T = 15 rows of 11 classes: longer than one vector, with a remainder.
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 3, ["T"] = 5 };

    private static string Source(string loss) =>
        "model classify(classes = 11)\ninput x : f32[B, T, 6]\ninput targets : i32[B, T]\n" +
        $"logits = linear(x, classes)\noutput logits\nloss = {loss}\n";

    private const string Plain = "cross_entropy(logits, targets)";
    private const string Masked = "cross_entropy(logits, targets, ignore = 0)";

    // Targets 0..3, so about a quarter of them are the ignored id.
    private static Dictionary<string, Array> Inputs() => new()
    {
        ["x"] = TestGraphs.RandomValues(5, 3 * 5 * 6, -2, 3),
        ["targets"] = Enumerable.Range(0, 15).Select(i => i * 7 % 4).ToArray(),
    };

    private static (List<KernelSpec> Specs, Dictionary<string, float[]> Results) Train(string loss, CompileOptions options)
    {
        var graph = ModelLoader.LoadSource("classify.dfg", Source(loss), new ModelOptions(Training: true)).Graph;
        using var session = new Session(new CpuBackend(), seed: 3, options);
        session.DeclareParameters(graph);
        var compiled = session.Compile(StepGraph.ForTraining(graph, withGradNorm: false).WithGradientOutputs(), Sizes);
        var results = session.Run(compiled, Inputs()).Results.ToDictionary(r => r.Key, r => r.Value.ToArray());
        return ([.. compiled.Kernels.Select(k => compiled.World.Spec(compiled.World.Get<KernelInfo>(k)))], results);
    }

    [Theory]
    [InlineData(Plain, false)]
    [InlineData(Masked, true)]
    public void TheLossAndItsGradientAreOneKernelEach(string loss, bool perRow)
    {
        var specs = Train(loss, CompileOptions.Default).Specs;
        var forward = Assert.Single(specs.OfType<CrossEntropySpec>());
        var backward = Assert.Single(specs.OfType<CrossEntropyBackwardSpec>());
        Assert.Equal((15L, 11L, perRow), (forward.Rows, forward.Width, forward.PerRow));
        // The masked mean's gradient reaches each row with its own weight (0 where ignored).
        Assert.Equal((15L, 11L, perRow), (backward.Rows, backward.Width, backward.GradPerRow));
        // The backward reads e, Σe and the one-hot rows; the rest stays in registers.
        Assert.Equal("Output,Exp,Sum,OneHot", string.Join(",", forward.Outputs));
        Assert.Equal("Output", string.Join(",", backward.Outputs));
        Assert.DoesNotContain(specs.OfType<OpKernelSpec>(), op => op.Op is OpCode.ReduceMax or OpCode.OneHot);
    }

    [Theory]
    [InlineData(Plain)]
    [InlineData(Masked)]
    public void NoFusionRunsEveryOpAlone(string loss)
    {
        var specs = Train(loss, CompileOptions.Default with { Fusion = false }).Specs;
        Assert.Empty(specs.OfType<CrossEntropySpec>());
        Assert.Empty(specs.OfType<CrossEntropyBackwardSpec>());
        Assert.Contains(specs.OfType<OpKernelSpec>(), op => op.Op == OpCode.OneHot);
    }

    [Theory]
    [InlineData(Plain)]
    [InlineData(Masked)]
    public void FusedAndUnfusedGiveTheSameGradients(string loss)
    {
        var fused = Train(loss, CompileOptions.Default).Results;
        var unfused = Train(loss, CompileOptions.Default with { Fusion = false }).Results;
        Assert.Equal(unfused.Keys.Order(), fused.Keys.Order());
        Assert.True(fused.Count > 2, "the loss, the logits and the parameters' gradients are fetched");
        foreach (var (name, values) in unfused)
        {
            if (name == "loss")
            {
                // The total is summed in another order: the loss may move in its last bits only.
                float want = Assert.Single(values), got = Assert.Single(fused[name]);
                Assert.True(Math.Abs(got - want) <= 2e-7f * Math.Abs(want), $"loss {got} against {want} unfused");
                continue;
            }
            Assert.True(values.AsSpan().SequenceEqual(fused[name]), $"{name} differs between fused and unfused");
        }
    }

    [Theory]
    [InlineData(Plain)]
    [InlineData(Masked)]
    public void GradientsMatchFiniteDifferences(string loss)
    {
        var graph = ModelLoader.LoadSource("classify.dfg", Source(loss), new ModelOptions(Training: true)).Graph;
        FiniteDifference.Check(graph, new Dictionary<string, float[]>(), Inputs(), Sizes, 12);
    }
}
