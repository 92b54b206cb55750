using Dataflow.Engine.Backends;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns each tanh-GELU (<see cref="GeluPattern"/>), with the bias add before it where it can, into one
/// <see cref="GeluSpec"/> kernel, and its gradient into one <see cref="GeluBackwardSpec"/>, on the terms of
/// <see cref="RowPatternFusion"/>. The backward is matched first: it forms x², ½·x and 1 + tanh again from
/// x and tanh, so where it is one kernel the forward does not write those three out for it.
/// </summary>
internal static class GeluFusion
{
    public static Dictionary<LoadedTensor, (LoadedTensor[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<LoadedTensor> nodes,
        ISet<LoadedTensor> taken, Func<LoadedTensor, bool> neededAfterStep)
    {
        var backwards = new Dictionary<LoadedTensor, GeluPattern.BackwardMatch>();
        var found = RowPatternFusion.Match(world, context, graph, nodes, taken, neededAfterStep,
            node =>
            {
                if (GeluPattern.TryMatchBackward(graph, node) is not { } match) return null;
                backwards[node] = match;
                return new RowPatternMatch(match.Stages, match.Stages, match.Inputs, RowsInput: 0, Forward: false);
            },
            (row, rows, width, written) =>
            {
                var match = backwards[row.Stages[^1]];
                return new GeluBackwardSpec(rows * width, match.CubeScale, match.InnerScale, match.HalfScale, match.One,
                    [.. written.Select(s => (GeluBackwardStage)s)]);
            });
        var recomputed = found.Keys.SelectMany(root => backwards[root].Recomputed).ToHashSet();
        var inBackward = found.Values.SelectMany(b => b.Members).ToHashSet();

        var forwards = new Dictionary<LoadedTensor, (GeluPattern.Match Match, LoadedTensor[] Stages)>();
        var forward = RowPatternFusion.Match(world, context, graph, nodes, taken, neededAfterStep,
            node =>
            {
                // The bias add joins only when nothing reads its sum before the activation's end.
                var match = GeluPattern.TryMatch(graph, node, withBias: true);
                if (match is { HasBias: true } && PatternOutputs.Written(graph, match.Stages, match.Members.ToHashSet(), neededAfterStep) is null)
                    match = GeluPattern.TryMatch(graph, node, withBias: false);
                if (match is null) return null;
                // Without the bias add x is an input, not a stage; a stage a fused backward forms again is read by no one else.
                var stages = (match.HasBias ? match.Stages : match.Stages[1..])
                    .Where(s => s == node || !recomputed.Contains(s) || neededAfterStep(s) || graph.Readers(s).Any(r => !match.Members.Contains(r) && !inBackward.Contains(r)))
                    .ToArray();
                forwards[node] = (match, stages);
                return new RowPatternMatch(stages, match.Members, match.Inputs, RowsInput: 0, Forward: true);
            },
            (row, rows, width, written) =>
            {
                var (match, stages) = forwards[row.Stages[^1]];
                return new GeluSpec(rows, width, match.HasBias, match.CubeScale, match.InnerScale, match.HalfScale, match.One,
                    [.. written.Select(s => (GeluStage)Array.IndexOf(match.Stages, stages[s]))]);
            });
        foreach (var (root, kernel) in forward) found[root] = kernel;
        return found;
    }
}
