using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns the softmax forward and backward chains (<see cref="SoftmaxPattern"/>) into one
/// <see cref="SoftmaxSpec"/> / <see cref="SoftmaxBackwardSpec"/> kernel each, for <see cref="FusionSystem"/>,
/// on the same terms as its layer norms: a match is taken only when every stage it writes out besides
/// the root is read after the root (the kernel runs at its root's place), when it overlaps no other
/// pattern, and when the backend supports the kernel; elsewhere the elementwise fusion takes the nodes.
/// </summary>
internal static class SoftmaxFusion
{
    public static Dictionary<Node, (Node[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<Node> nodes,
        ISet<Node> taken, Func<Node, bool> neededAfterStep)
    {
        var found = new Dictionary<Node, (Node[], KernelDraft)>();
        foreach (var node in nodes)
        {
            var forward = SoftmaxPattern.TryMatchForward(graph, node);
            var match = forward ?? SoftmaxPattern.TryMatchBackward(graph, node);
            if (match is null || !match.Members.All(graph.Contains) || match.Members.Any(taken.Contains)) continue;
            if (PatternOutputs.Written(graph, match.Stages, match.Members.ToHashSet(), neededAfterStep) is not { } stages) continue;
            var rows = world.Get<TensorInfo>(graph[match.Inputs[0]]).Desc;
            long width = rows.Shape[^1], count = rows.Elements / Math.Max(1, width);
            KernelSpec spec = forward is not null
                ? new SoftmaxSpec(count, width, [.. stages.Select(s => (SoftmaxStage)s)])
                : new SoftmaxBackwardSpec(count, width, [.. stages.Select(s => (SoftmaxBackwardStage)s)]);
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
