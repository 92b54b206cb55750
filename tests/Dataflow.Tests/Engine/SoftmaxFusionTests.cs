using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The fusion system hands a softmax over rows of scores and its gradient to the CPU backend as one softmax
/// and one softmax_backward kernel, writing out what the backward reads, and the result is the
/// unfused ops' to the bit. (LayerGradientCheckTests' softmax case checks the same kernels against
/// finite differences: its sessions compile with fusion on. Attention's softmax is part of the attention
/// kernels, AttentionFusionTests.)
/// </summary>
public sealed class SoftmaxFusionTests
{
    // d = 20: rows longer than one vector, with a remainder.
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 3, ["T"] = 20 };

    private const string Source = "model rows(d = 20)\ninput x : f32[B, T, d]\ny = softmax(linear(x, d))\noutput y\n";

    private static (List<KernelSpec> Specs, Dictionary<string, float[]> Results) Train(CompileOptions options) =>
        PatternFusionRun.Train(PatternFusionRun.WithProductLoss("rows.dfg", Source), Sizes, 3 * 20 * 20, options);

    [Fact]
    public void TheSoftmaxAndItsGradientAreOneKernelEach()
    {
        var specs = Train(CompileOptions.Default).Specs;
        var forward = Assert.Single(specs.OfType<SoftmaxSpec>());
        var backward = Assert.Single(specs.OfType<SoftmaxBackwardSpec>());
        // B·T rows of d.
        Assert.Equal((3L * 20, 20L), (forward.Rows, forward.Width));
        Assert.Equal((3L * 20, 20L), (backward.Rows, backward.Width));
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
    public void FusedAndUnfusedGiveTheSameBits() =>
        PatternFusionRun.AssertSameBits(Train(CompileOptions.Default).Results, Train(CompileOptions.Default with { Fusion = false }).Results);
}
