using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns the softmax forward and backward chains (<see cref="SoftmaxPattern"/>) into one
/// <see cref="SoftmaxSpec"/> / <see cref="SoftmaxBackwardSpec"/> kernel each, on the terms of
/// <see cref="RowPatternFusion"/>.
/// </summary>
internal static class SoftmaxFusion
{
    public static Dictionary<LoadedTensor, (LoadedTensor[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<LoadedTensor> nodes,
        ISet<LoadedTensor> taken, Func<LoadedTensor, bool> neededAfterStep) =>
        RowPatternFusion.Match(world, context, graph, nodes, taken, neededAfterStep,
            node => SoftmaxPattern.TryMatchForward(graph, node) is { } forward ? Row(forward, true)
                : SoftmaxPattern.TryMatchBackward(graph, node) is { } backward ? Row(backward, false) : null,
            (match, rows, width, stages) => match.Forward
                ? new SoftmaxSpec(rows, width, [.. stages.Select(s => (SoftmaxStage)s)])
                : new SoftmaxBackwardSpec(rows, width, [.. stages.Select(s => (SoftmaxBackwardStage)s)]));

    private static RowPatternMatch Row(SoftmaxPattern.Match match, bool forward) =>
        new(match.Stages, match.Members, match.Inputs, RowsInput: 0, forward);
}
