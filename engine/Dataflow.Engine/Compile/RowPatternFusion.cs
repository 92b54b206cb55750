using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// A matched chain that one row kernel computes: its stages (the root last), every node it covers,
/// its inputs, which input gives the rows, whether it is the forward chain, and whether it gives one
/// result per row (cross-entropy's per-row losses) rather than one in all.
/// </summary>
internal readonly record struct RowPatternMatch(LoadedTensor[] Stages, LoadedTensor[] Members, LoadedTensor[] Inputs, int RowsInput, bool Forward, bool PerRow = false);

/// <summary>
/// The fusion rule shared by the row patterns (softmax, cross-entropy), for <see cref="FusionSystem"/>,
/// on the same terms as its layer norms: a match is taken only when every stage it writes out besides
/// the root is read after the root (the kernel runs at its root's place), when it overlaps no other
/// pattern, and when the backend supports the kernel; elsewhere the elementwise fusion takes the nodes.
/// </summary>
internal static class RowPatternFusion
{
    /// <param name="tryMatch">The pattern rooted at a node, or null.</param>
    /// <param name="spec">The kernel for a match: (match, rows, row width, the stages it writes).</param>
    public static Dictionary<LoadedTensor, (LoadedTensor[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<LoadedTensor> nodes, ISet<LoadedTensor> taken,
        Func<LoadedTensor, bool> neededAfterStep, Func<LoadedTensor, RowPatternMatch?> tryMatch, Func<RowPatternMatch, long, long, List<int>, KernelSpec> spec)
    {
        var found = new Dictionary<LoadedTensor, (LoadedTensor[], KernelDraft)>();
        foreach (var node in nodes)
        {
            if (tryMatch(node) is not { } match) continue;
            if (match.Members.Any(taken.Contains)) continue;
            if (PatternOutputs.Written(graph, match.Stages, match.Members.ToHashSet(), neededAfterStep) is not { } stages) continue;
            var rows = world.Get<TensorInfo>(graph[match.Inputs[match.RowsInput]]).Desc;
            long width = rows.Shape[^1], count = rows.Elements / Math.Max(1, width);
            var kernel = spec(match, count, width, stages);
            if (!context.Backend.SupportsOp(kernel).IsSupported) continue;
            taken.UnionWith(match.Members);
            found[node] = (match.Members, new KernelDraft(
                kernel,
                [.. match.Inputs.Select(i => graph[i])],
                [.. stages.Select(s => graph[match.Stages[s]])],
                // The detach is an alias, not computed by the kernel.
                [.. match.Members.Where(m => m.Op != OpCode.Detach).OrderBy(m => m.Id).Select(m => graph[m])]));
        }
        return found;
    }
}
