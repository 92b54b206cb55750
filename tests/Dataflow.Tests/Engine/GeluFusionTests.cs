using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The fusion system hands a tanh-GELU and the bias add of the linear layer before it to the CPU backend
/// as one gelu kernel and its gradient as one gelu_backward kernel, which forms x², ½·x and 1 + tanh again
/// (the forward writes out only x and tanh for it), and the result is the unfused ops' to the bit.
/// (LayerGradientCheckTests' gelu case checks the same kernel against finite differences: its sessions
/// compile with fusion on.)
/// </summary>
public sealed class GeluFusionTests
{
    // d = 20 over B·T = 60 rows: 1200 elements, one chunk of 1024 that takes the remainder, bias rows split across it.
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 3, ["T"] = 20 };

    private const string Source = "model act(d = 20)\ninput x : f32[B, T, d]\ny = gelu(linear(x, d))\noutput y\n";

    private static (List<KernelSpec> Specs, Dictionary<string, float[]> Results) Train(CompileOptions options) =>
        PatternFusionRun.Train(PatternFusionRun.WithProductLoss("act.dfg", Source), Sizes, 3 * 20 * 20, options);

    [Fact]
    public void TheBiasAddAndGeluAreOneKernelAndItsGradientAnother()
    {
        var specs = Train(CompileOptions.Default).Specs;
        var gelu = Assert.Single(specs.OfType<GeluSpec>());
        Assert.Equal((3L * 20, 20L, true), (gelu.Rows, gelu.Width, gelu.HasBias));
        // The fused backward reads x and tanh; the rest stays in registers.
        Assert.Equal("Output,Biased,Tanh", string.Join(",", gelu.Outputs));
        Assert.Equal(3L * 20 * 20, Assert.Single(specs.OfType<GeluBackwardSpec>()).Elements);
        Assert.DoesNotContain(specs.OfType<FusedElementwiseSpec>(), f => f.Program.Any(i => i.Code == Graph.Ops.OpCode.Tanh));
    }

    [Fact]
    public void NoFusionRunsEveryOpAlone()
    {
        var specs = Train(CompileOptions.Default with { Fusion = false }).Specs;
        Assert.Empty(specs.OfType<GeluSpec>());
        Assert.Empty(specs.OfType<GeluBackwardSpec>());
    }

    [Fact]
    public void FusedAndUnfusedGiveTheSameBits() =>
        PatternFusionRun.AssertSameBits(Train(CompileOptions.Default).Results, Train(CompileOptions.Default with { Fusion = false }).Results);
}
