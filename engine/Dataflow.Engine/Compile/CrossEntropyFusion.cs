using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns the cross-entropy forward and backward chains (<see cref="CrossEntropyPattern"/>) into one
/// <see cref="CrossEntropySpec"/> / <see cref="CrossEntropyBackwardSpec"/> kernel each, for <see cref="FusionSystem"/>,
/// on the terms of <see cref="SoftmaxFusion"/>: a match is taken only when every stage it writes out besides
/// the root is read after the root, when it overlaps no other pattern, and when the backend supports the
/// kernel; elsewhere the elementwise fusion takes the nodes.
/// </summary>
internal static class CrossEntropyFusion
{
    public static Dictionary<Node, (Node[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<Node> nodes,
        ISet<Node> taken, Func<Node, bool> neededAfterStep)
    {
        var found = new Dictionary<Node, (Node[], KernelDraft)>();
        foreach (var node in nodes)
        {
            var forward = CrossEntropyPattern.TryMatchForward(graph, node);
            var match = forward ?? CrossEntropyPattern.TryMatchBackward(graph, node);
            if (match is null || !match.Members.All(graph.Contains) || !match.Inputs.All(graph.Contains) || match.Members.Any(taken.Contains)) continue;
            if (PatternOutputs.Written(graph, match.Stages, match.Members.ToHashSet(), neededAfterStep) is not { } stages) continue;
            // The logits (forward) or the exponentials (backward) give the rows.
            var rows = world.Get<TensorInfo>(graph[match.Inputs[forward is not null ? 0 : 3]]).Desc;
            long width = rows.Shape[^1], count = rows.Elements / Math.Max(1, width);
            KernelSpec spec = forward is not null
                ? new CrossEntropySpec(count, width, match.PerRow, [.. stages.Select(s => (CrossEntropyStage)s)])
                : new CrossEntropyBackwardSpec(count, width, match.PerRow, [.. stages.Select(s => (CrossEntropyBackwardStage)s)]);
            if (!context.Backend.SupportsOp(spec).IsSupported) continue;
            taken.UnionWith(match.Members);
            found[node] = (match.Members, new KernelDraft(
                spec,
                [.. match.Inputs.Select(i => graph[i])],
                [.. stages.Select(s => graph[match.Stages[s]])],
                // The detach is an alias, not computed by the kernel.
                [.. match.Members.Where(m => m.Op != OpCode.Detach).OrderBy(m => m.Id).Select(m => graph[m])]));
        }
        return found;
    }
}
