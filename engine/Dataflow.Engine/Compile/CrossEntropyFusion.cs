using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns the cross-entropy forward and backward chains (<see cref="CrossEntropyPattern"/>) into one
/// <see cref="CrossEntropySpec"/> / <see cref="CrossEntropyBackwardSpec"/> kernel each, on the terms of
/// <see cref="RowPatternFusion"/>.
/// </summary>
internal static class CrossEntropyFusion
{
    public static Dictionary<LoadedTensor, (LoadedTensor[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<LoadedTensor> nodes,
        ISet<LoadedTensor> taken, Func<LoadedTensor, bool> neededAfterStep) =>
        RowPatternFusion.Match(world, context, graph, nodes, taken, neededAfterStep,
            node => CrossEntropyPattern.TryMatchForward(graph, node) is { } forward ? Row(forward, true)
                : CrossEntropyPattern.TryMatchBackward(graph, node) is { } backward ? Row(backward, false) : null,
            (match, rows, width, stages) => match.Forward
                ? new CrossEntropySpec(rows, width, match.PerRow, [.. stages.Select(s => (CrossEntropyStage)s)])
                : new CrossEntropyBackwardSpec(rows, width, match.PerRow, [.. stages.Select(s => (CrossEntropyBackwardStage)s)]));

    // The logits (forward) or the exponentials (backward) give the rows.
    private static RowPatternMatch Row(CrossEntropyPattern.Match match, bool forward) =>
        new(match.Stages, match.Members, match.Inputs, RowsInput: forward ? 0 : 3, forward, match.PerRow);
}
