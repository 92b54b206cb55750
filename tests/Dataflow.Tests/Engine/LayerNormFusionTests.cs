using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The fusion system hands each lowered layernorm to the CPU backend as one layer_norm kernel,
/// writing out what the backward pass reads, and the result is the unfused ops' to the bit.
/// (LayerGradientCheckTests.LayerNorm checks the same kernel against finite differences.)
/// </summary>
public sealed class LayerNormFusionTests
{
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 3, ["T"] = 5 };

    /// <summary>Two layernorms in a residual block, as a GPT block has them.</summary>
    private const string Source = "model residual(d = 24)\ninput x : f32[B, T, d]\nh = x + linear(layernorm(x), d)\ny = layernorm(h)\noutput y\n";

    private static (List<LayerNormSpec> Norms, Dictionary<string, float[]> Results) Train(CompileOptions options)
    {
        var (specs, results) = PatternFusionRun.Train(PatternFusionRun.WithProductLoss("residual.dfg", Source), Sizes, 3 * 5 * 24, options);
        return ([.. specs.OfType<LayerNormSpec>()], results);
    }

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
    public void FusedAndUnfusedGiveTheSameBits() =>
        PatternFusionRun.AssertSameBits(Train(CompileOptions.Default).Results, Train(CompileOptions.Default with { Fusion = false }).Results);
}
