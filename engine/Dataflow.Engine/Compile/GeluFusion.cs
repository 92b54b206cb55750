using Dataflow.Engine.Backends;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ir;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns each tanh-GELU (<see cref="GeluPattern"/>), with the bias add before it where it can, into one
/// <see cref="GeluSpec"/> kernel, on the terms of <see cref="RowPatternFusion"/>.
/// </summary>
internal static class GeluFusion
{
    public static Dictionary<Node, (Node[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<Node> nodes,
        ISet<Node> taken, Func<Node, bool> neededAfterStep)
    {
        var matches = new Dictionary<Node, GeluPattern.Match>();
        return RowPatternFusion.Match(world, context, graph, nodes, taken, neededAfterStep,
            node =>
            {
                // The bias add joins only when nothing reads its sum before the activation's end.
                var match = GeluPattern.TryMatch(graph, node, withBias: true);
                if (match is { HasBias: true } && PatternOutputs.Written(graph, match.Stages, match.Members.ToHashSet(), neededAfterStep) is null)
                    match = GeluPattern.TryMatch(graph, node, withBias: false);
                if (match is null) return null;
                matches[node] = match;
                return new RowPatternMatch(Stages(match), match.Members, match.Inputs, RowsInput: 0, Forward: true);
            },
            (row, rows, width, written) =>
            {
                var match = matches[row.Stages[^1]];
                // Without the bias add, x is an input, not a stage the kernel forms.
                int first = match.HasBias ? 0 : 1;
                return new GeluSpec(rows, width, match.HasBias, match.CubeScale, match.InnerScale, match.HalfScale, match.One,
                    [.. written.Select(s => (GeluStage)(s + first))]);
            });
    }

    private static Node[] Stages(GeluPattern.Match match) => match.HasBias ? match.Stages : match.Stages[1..];
}
