using System.Collections.Immutable;
using System.Globalization;

namespace Dataflow.Engine.Backends;

/// <summary>
/// The values cross-entropy from logits forms, in the order the lowered graph forms them
/// (graph/Dataflow.Graph/Dsl/Layers/Losses.cs, <c>CrossEntropy</c>, through <c>Softmax.Log</c>): the row
/// maximum, x − max, its exponential, the row sum of that, its log, the log-probabilities x − max − log Σ,
/// the one-hot rows of the targets, their product with the log-probabilities, and the picked
/// log-probabilities summed per row or over everything. Max, Sum and LogSum hold one value per row;
/// Output one per row or one in all (<see cref="CrossEntropySpec.PerRow"/>); the others one per element.
/// The backward pass reads the exponentials, their sums and the one-hot rows.
/// </summary>
public enum CrossEntropyStage : byte
{
    Max, Shifted, Exp, Sum, LogSum, LogProbs, OneHot, Picked, Output,
}

/// <summary>
/// Σ_c onehot(target)_c · log_softmax(x)_c over the last axis as one kernel for <see cref="Rows"/> rows of
/// <see cref="Width"/> classes, summed per row (<see cref="PerRow"/>: the masked mean and the policy losses
/// read it per target) or over all rows (the plain mean). Buffers: x, the i32 targets (one per row), then one
/// per entry of <see cref="Outputs"/>. Every stage but the total is the float operation its unfused kernels
/// perform; the total adds the rows' sums in order in double, where the unfused reduce adds the whole
/// product tensor in blocks, so a total can differ from the unfused one in its last bits.
/// </summary>
public sealed record CrossEntropySpec(long Rows, long Width, bool PerRow, ImmutableArray<CrossEntropyStage> Outputs) : KernelSpec
{
    public override string DisplayName => "cross_entropy";

    public long ElementsOf(CrossEntropyStage stage) => stage switch
    {
        CrossEntropyStage.Max or CrossEntropyStage.Sum or CrossEntropyStage.LogSum => Rows,
        CrossEntropyStage.Output => PerRow ? Rows : 1,
        _ => Rows * Width,
    };

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"cross_entropy[{Rows}x{Width}{(PerRow ? ",rows" : "")}]{{out {string.Join(",", Outputs)}}}");
}

/// <summary>
/// The gradient of that sum as the catalog's rules build it from an upstream gradient g (one value, or one
/// per row), the one-hot rows q, the exponentials e and their row sums s, in graph order:
/// <c>dx = g·q + (Σ −(g·q)) / s · e</c>, i.e. g·(q − softmax(x)).
/// </summary>
public enum CrossEntropyBackwardStage : byte
{
    GradLogProbs, Negated, RowSum, OverSum, Scaled, Output,
}

/// <summary>
/// Cross-entropy backward over the last axis as one kernel: buffers g (one value, or one per row when
/// <see cref="GradPerRow"/>), q, s (one per row), e, then one per entry of <see cref="Outputs"/>. Each stage
/// is the float operation the unfused kernels perform, so the gradient is theirs to the bit.
/// </summary>
public sealed record CrossEntropyBackwardSpec(long Rows, long Width, bool GradPerRow, ImmutableArray<CrossEntropyBackwardStage> Outputs) : KernelSpec
{
    public override string DisplayName => "cross_entropy_backward";

    public static bool IsPerRow(CrossEntropyBackwardStage stage) => stage is CrossEntropyBackwardStage.RowSum or CrossEntropyBackwardStage.OverSum;

    public long ElementsOf(CrossEntropyBackwardStage stage) => IsPerRow(stage) ? Rows : Rows * Width;

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"cross_entropy_backward[{Rows}x{Width}{(GradPerRow ? ",grad rows" : "")}]{{out {string.Join(",", Outputs)}}}");
}
