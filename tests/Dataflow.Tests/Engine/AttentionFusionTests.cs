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
/// The fusion system hands attention to the CPU backend as one attention kernel and its gradient as one
/// attention_backward kernel (recomputing the probabilities from the row max and Σ the forward writes),
/// and the results agree with the op-by-op path within the conformance suite's f32 tolerance (NMSE ≤ 1e-7;
/// the online softmax sums in another order, so not to the bit). T = 40: more than one 32-key block,
/// so the running maximum's rescaling runs, and causal rows that skip whole blocks; T = 1, whose one-key softmax
/// gradient the rules build shorter (no row sum, no expand).
/// </summary>
public sealed class AttentionFusionTests
{
    private static readonly Dictionary<string, long> Sizes = SizesOf(40);
    private const int Elements = 3 * 40 * 16;

    private static Dictionary<string, long> SizesOf(long t) => new() { ["B"] = 3, ["T"] = t };

    private static string Source(bool causal) =>
        $"model attend(d = 16)\ninput x : f32[B, T, d]\ny = attention(x, 2{(causal ? ", causal = true" : "")})\noutput y\n";

    private static (List<KernelSpec> Specs, Dictionary<string, float[]> Results) Train(bool causal, CompileOptions options, long t = 40) =>
        PatternFusionRun.Train(PatternFusionRun.WithProductLoss("attend.dfg", Source(causal)), SizesOf(t), (int)(3 * t * 16), options);

    [Theory]
    [InlineData(true, 40)]
    [InlineData(false, 40)]
    [InlineData(true, 1)]
    [InlineData(false, 1)]
    public void TheAttentionAndItsGradientAreOneKernelEach(bool causal, long t)
    {
        var specs = Train(causal, CompileOptions.Default, t).Specs;
        var forward = Assert.Single(specs.OfType<AttentionSpec>());
        var backward = Assert.Single(specs.OfType<AttentionBackwardSpec>());
        // B·heads slices of T queries over T keys, heads of 8.
        Assert.Equal((6L, t, t, 8L, causal), (forward.BatchHeads, forward.Queries, forward.Keys, forward.Width, forward.Causal));
        Assert.Equal((6L, t, t, 8L, causal), (backward.BatchHeads, backward.Queries, backward.Keys, backward.Width, backward.Causal));
        Assert.Equal(1 / MathF.Sqrt(8), forward.Scale, 6);
        Assert.True(forward.WritesRowStatistics, "the backward recomputes from the row max and sum");
        // Nothing of the T×T chain is left: no softmax, no score matmul, no mask.
        Assert.Empty(specs.OfType<SoftmaxSpec>());
        Assert.Empty(specs.OfType<SoftmaxBackwardSpec>());
        Assert.DoesNotContain(specs.OfType<OpKernelSpec>(), op => op.Op is OpCode.CausalMask or OpCode.ReduceMax);
        Assert.DoesNotContain(specs.OfType<OpKernelSpec>(), op => op.Op == OpCode.MatMul && op.Output.Shape.Length == 4);
    }

    [Fact]
    public void NoFusionRunsEveryOpAlone()
    {
        var specs = Train(causal: true, CompileOptions.Default with { Fusion = false }).Specs;
        Assert.Empty(specs.OfType<AttentionSpec>());
        Assert.Empty(specs.OfType<AttentionBackwardSpec>());
        // Q·Kᵀ, P·V, and the gradient's four: dP, dV, dQ, dK.
        Assert.Equal(6, specs.OfType<OpKernelSpec>().Count(op => op.Op == OpCode.MatMul && op.Output.Shape.Length == 4));
    }

    [Fact]
    public void InferenceWritesNoRowStatistics()
    {
        var graph = ModelLoader.LoadSource("attend.dfg", Source(causal: true), new ModelOptions(Training: false)).Graph;
        using var session = new Session(new CpuBackend(), seed: 3, CompileOptions.Default);
        session.DeclareParameters(graph);
        var compiled = session.Compile(StepGraph.ForwardOnly(graph, includeLoss: false), Sizes);
        var specs = compiled.Kernels.Select(k => compiled.World.Spec(compiled.World.Get<KernelInfo>(k))).ToList();
        Assert.False(Assert.Single(specs.OfType<AttentionSpec>()).WritesRowStatistics);
        Assert.Empty(specs.OfType<SoftmaxSpec>());
    }

    [Theory]
    [InlineData(true, 40)]
    [InlineData(false, 40)]
    [InlineData(true, 1)]
    public void FusedAgreesWithUnfusedWithinTheConformanceTolerance(bool causal, long t)
    {
        var fused = Train(causal, CompileOptions.Default, t).Results;
        var unfused = Train(causal, CompileOptions.Default with { Fusion = false }, t).Results;
        Assert.Equal(unfused.Keys.Order(), fused.Keys.Order());
        Assert.Contains("grad:y.qkv.weight", fused.Keys);
        foreach (var (name, expected) in unfused)
        {
            double error = 0, norm = 0;
            for (int i = 0; i < expected.Length; i++)
            {
                error += Math.Pow(fused[name][i] - expected[i], 2);
                norm += Math.Pow(expected[i], 2);
            }
            double nmse = error / Math.Max(norm, 1e-30);
            Assert.True(nmse <= 1e-7, $"{name}: NMSE {nmse:E2} against the unfused ops");
        }
    }

    /// <summary>The fused kernels' gradients against central differences of the fused forward, over several key blocks.</summary>
    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void GradientsMatchFiniteDifferences(bool causal)
    {
        var graph = PatternFusionRun.WithProductLoss("attend.dfg", Source(causal));
        var inputs = new Dictionary<string, Array> { ["x"] = TestGraphs.RandomValues(5, Elements, -2, 3), ["r"] = TestGraphs.RandomValues(6, Elements) };
        FiniteDifference.Check(graph, new Dictionary<string, float[]>(), inputs, Sizes, maxCoordinatesPerParameter: 24);
    }
}
