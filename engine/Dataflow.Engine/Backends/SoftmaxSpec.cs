using System.Collections.Immutable;
using System.Globalization;

namespace Dataflow.Engine.Backends;

/// <summary>
/// The values a row softmax forms, in the order the lowered graph forms them
/// (graph/Dataflow.Graph/Dsl/Layers/Softmax.cs, <c>Apply</c>): the row maximum, x − max, its
/// exponential, the row sum of that, and e / sum. Max and Sum hold one value per row, the others one
/// per element. A fused kernel writes out whichever of them is read outside it (the backward pass
/// reads the exponentials, their sums and the output).
/// </summary>
public enum SoftmaxStage : byte
{
    Max, Shifted, Exp, Sum, Output,
}

/// <summary>
/// Softmax over the last axis as one kernel for <see cref="Rows"/> rows of <see cref="Width"/>.
/// Buffers: x, then one per entry of <see cref="Outputs"/>. A backend that forms each stage with the
/// float operation its unfused kernels use (row max and row sums as its reduce kernel forms them)
/// matches the unfused ops bit for bit.
/// </summary>
public sealed record SoftmaxSpec(long Rows, long Width, ImmutableArray<SoftmaxStage> Outputs) : KernelSpec
{
    public override string DisplayName => "softmax";

    public static bool IsPerRow(SoftmaxStage stage) => stage is SoftmaxStage.Max or SoftmaxStage.Sum;

    public long ElementsOf(SoftmaxStage stage) => IsPerRow(stage) ? Rows : Rows * Width;

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"softmax[{Rows}x{Width}]{{out {string.Join(",", Outputs)}}}");
}

/// <summary>
/// The gradient of that softmax as the catalog's rules build it from y = e / s (one value per
/// element, Σ per row), in graph order: <c>dx = (g / s + Σ −(g·y / s)) · e</c>.
/// </summary>
public enum SoftmaxBackwardStage : byte
{
    GradOverSum, GradTimesOutput, ScaledBySum, Negated, RowSum, Combined, Output,
}

/// <summary>
/// Softmax backward over the last axis as one kernel: buffers g, y, s (one per row), e, then one per
/// entry of <see cref="Outputs"/>. Each stage is the float operation the unfused kernels perform, so
/// the result is theirs to the bit.
/// </summary>
public sealed record SoftmaxBackwardSpec(long Rows, long Width, ImmutableArray<SoftmaxBackwardStage> Outputs) : KernelSpec
{
    public override string DisplayName => "softmax_backward";

    public long ElementsOf(SoftmaxBackwardStage stage) => stage == SoftmaxBackwardStage.RowSum ? Rows : Rows * Width;

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"softmax_backward[{Rows}x{Width}]{{out {string.Join(",", Outputs)}}}");
}
