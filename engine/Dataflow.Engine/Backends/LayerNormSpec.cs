using System.Collections.Immutable;
using System.Globalization;

namespace Dataflow.Engine.Backends;

/// <summary>
/// The values a layer norm forward pass forms, in the order the lowered graph forms them
/// (graph/Dataflow.Graph/Dsl/Layers/LayerNorm.cs). Per-row stages hold one value per row, the others
/// one per element. A fused kernel writes out whichever of them is read outside it (the backward
/// pass reads the centred rows, the standard deviation and the normalised rows).
/// </summary>
public enum LayerNormStage : byte
{
    MeanSum, Mean, Centered, Squared, VarianceSum, Variance, VariancePlusEpsilon, StandardDeviation, Normalized, Scaled, Output,
}

/// <summary>
/// Layer norm over the last axis as one kernel: <c>(x − mean) / √(var + ε) · gain + bias</c> for
/// <see cref="Rows"/> rows of <see cref="Width"/>. Buffers: x, gain, bias, then one per entry of
/// <see cref="Outputs"/>. <see cref="MeanScale"/> and <see cref="VarianceScale"/> are the graph's own
/// 1/width constants and <see cref="Epsilon"/> its ε as float, so a backend that forms each stage with
/// the same float operation (and sums rows as its reduce kernel does) matches the unfused ops bit for bit.
/// </summary>
public sealed record LayerNormSpec(long Rows, long Width, float MeanScale, float VarianceScale, float Epsilon, ImmutableArray<LayerNormStage> Outputs) : KernelSpec
{
    public override string DisplayName => "layer_norm";

    public static bool IsPerRow(LayerNormStage stage) => stage is >= LayerNormStage.MeanSum and <= LayerNormStage.StandardDeviation
        and not LayerNormStage.Centered and not LayerNormStage.Squared;

    public long ElementsOf(LayerNormStage stage) => IsPerRow(stage) ? Rows : Rows * Width;

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"layer_norm[{Rows}x{Width}]{{mean×{MeanScale:R}, var×{VarianceScale:R}, eps {Epsilon:R}; out {string.Join(",", Outputs)}}}");
}

/// <summary>
/// The gradient of that layer norm as the catalog's rules build it, over rows of the incoming gradient g,
/// from the forward's centred rows c, standard deviation σ and normalised rows x̂ (d the width):
/// <code>
/// ĝ = g·gain;  dσ = Σ −((ĝ·x̂)/σ);  dv = (dσ/(σ·2))·(1/d)
/// dc = (ĝ/σ + dv·c) + dv·c;  dm = (Σ −dc)·(1/d)
/// dx = (incoming + dc) + dm     (incoming: x's gradient from its other readers, when it has some)
/// dgain = Σrows g·x̂;  dbias = Σrows g
/// </code>
/// </summary>
public sealed record LayerNormBackwardSpec(long Rows, long Width, float MeanScale, float VarianceScale, float Two,
    bool HasIncoming, bool HasGainGrad, bool HasBiasGrad) : KernelSpec
{
    public override string DisplayName => "layer_norm_backward";

    /// <summary>
    /// Buffers in order: g, gain, c, σ, x̂, then incoming (when <see cref="HasIncoming"/>), then dx, dgain and
    /// dbias (the last two when present). The sums over rows are the reduce kernel's: float over blocks of
    /// rows, the blocks totalled in double, so a backend that keeps that order gives the unfused bits.
    /// </summary>
    public long[] BufferElements => [
        Rows * Width, Width, Rows * Width, Rows, Rows * Width, .. (HasIncoming ? new[] { Rows * Width } : []),
        Rows * Width, .. (HasGainGrad ? new[] { Width } : []), .. (HasBiasGrad ? new[] { Width } : [])];

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"layer_norm_backward[{Rows}x{Width}]{{mean×{MeanScale:R}, var×{VarianceScale:R}, two {Two:R}{(HasIncoming ? ", +incoming" : "")}{(HasGainGrad ? ", dgain" : "")}{(HasBiasGrad ? ", dbias" : "")}}}");
}
