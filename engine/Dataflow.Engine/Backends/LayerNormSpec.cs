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
