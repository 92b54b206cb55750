using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The fusion system hands each lowered layernorm to the CPU backend as one layer_norm kernel,
/// writing out what the backward pass reads, and each gradient through a norm as one layer_norm_backward
/// kernel (dx, and the gain's and bias's sums over rows); the result is the unfused ops' to the bit.
/// (LayerGradientCheckTests.LayerNorm checks the same kernels against finite differences.)
/// </summary>
public sealed class LayerNormFusionTests
{
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 3, ["T"] = 5 };

    /// <summary>Two layernorms in a residual block, as a GPT block has them.</summary>
    private const string Source = "model residual(d = 24)\ninput x : f32[B, T, d]\nh = x + linear(layernorm(x), d)\ny = layernorm(h)\noutput y\n";

    /// <summary>
    /// The same block over a projected input, so that both norms' inputs need a gradient and the first one's
    /// also comes along the residual path (dx = (incoming + dc) + dm). Rows of 20 (two vectors of 8 and a scalar
    /// tail) over 90 rows: the gain and bias sums take two blocks of rows.
    /// </summary>
    private static readonly Dictionary<string, long> ProjectedSizes = new() { ["B"] = 3, ["T"] = 30 };

    private const string ProjectedSource = "model residual(d = 20)\ninput x : f32[B, T, d]\nz = linear(x, d)\nh = z + linear(layernorm(z), d)\ny = layernorm(h)\noutput y\n";

    private static (List<LayerNormSpec> Norms, Dictionary<string, float[]> Results) Train(CompileOptions options)
    {
        var (specs, results) = PatternFusionRun.Train(PatternFusionRun.WithProductLoss("residual.dfg", Source), Sizes, 3 * 5 * 24, options);
        return ([.. specs.OfType<LayerNormSpec>()], results);
    }

    private static (List<KernelSpec> Specs, Dictionary<string, float[]> Results) TrainProjected(CompileOptions options) =>
        PatternFusionRun.Train(PatternFusionRun.WithProductLoss("residual.dfg", ProjectedSource), ProjectedSizes, 3 * 30 * 20, options);

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
    public void EachGradientThroughANormIsOneKernelWithTheGainAndBiasSums()
    {
        var backwards = TrainProjected(CompileOptions.Default).Specs.OfType<LayerNormBackwardSpec>().ToList();
        Assert.Equal(2, backwards.Count);
        Assert.All(backwards, b => Assert.Equal((90L, 20L, true, true), (b.Rows, b.Width, b.HasGainGrad, b.HasBiasGrad)));
        // y's norm is h's only reader; z's gradient also comes back along the residual path. Kernels run in graph order.
        Assert.Equal(new[] { false, true }, backwards.Select(b => b.HasIncoming));
        // Where the first norm's input is fed it has no dx, so no backward kernel (its gain and bias sums run unfused).
        var fed = PatternFusionRun.Train(PatternFusionRun.WithProductLoss("residual.dfg", Source), Sizes, 3 * 5 * 24, CompileOptions.Default).Specs;
        Assert.False(Assert.Single(fed.OfType<LayerNormBackwardSpec>()).HasIncoming);
    }

    [Fact]
    public void NoFusionRunsEveryOpAlone()
    {
        Assert.Empty(Train(CompileOptions.Default with { Fusion = false }).Norms);
        Assert.Empty(TrainProjected(CompileOptions.Default with { Fusion = false }).Specs.OfType<LayerNormBackwardSpec>());
    }

    [Fact]
    public void FusedAndUnfusedGradientsGiveTheSameBits() =>
        PatternFusionRun.AssertSameBits(TrainProjected(CompileOptions.Default).Results, TrainProjected(CompileOptions.Default with { Fusion = false }).Results);

    [Fact]
    public void FusedAndUnfusedGiveTheSameBits() =>
        PatternFusionRun.AssertSameBits(Train(CompileOptions.Default).Results, Train(CompileOptions.Default with { Fusion = false }).Results);
}
