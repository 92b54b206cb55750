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
    public static Dictionary<Node, (Node[] Members, KernelInfo Kernel)> Match(
        World world, CompileContext context, IReadOnlyDictionary<Node, Entity> tensorOf, List<Node> nodes,
        Dictionary<Node, List<Node>> consumers, ISet<Node> taken, Func<Node, bool> neededAfterStep)
    {
        var found = new Dictionary<Node, (Node[], KernelInfo)>();
        foreach (var node in nodes)
        {
            var forward = SoftmaxPattern.TryMatchForward(node);
            var match = forward ?? SoftmaxPattern.TryMatchBackward(node);
            if (match is null || !match.Members.All(tensorOf.ContainsKey) || match.Members.Any(taken.Contains)) continue;
            if (WrittenStages(match, consumers, neededAfterStep) is not { } stages) continue;
            var rows = world.Get<TensorInfo>(tensorOf[match.Inputs[0]]).Desc;
            long width = rows.Shape[^1], count = rows.Elements / Math.Max(1, width);
            KernelSpec spec = forward is not null
                ? new SoftmaxSpec(count, width, [.. stages.Select(s => (SoftmaxStage)s)])
                : new SoftmaxBackwardSpec(count, width, [.. stages.Select(s => (SoftmaxBackwardStage)s)]);
            if (!context.Backend.SupportsOp(spec).IsSupported) continue;
            taken.UnionWith(match.Members);
            found[node] = (match.Members, new KernelInfo
            {
                Spec = spec,
                Inputs = [.. match.Inputs.Select(i => tensorOf[i])],
                Outputs = [.. stages.Select(s => tensorOf[match.Stages[s]])],
                // The detach is an alias, not computed by the kernel.
                Nodes = [.. match.Members.Where(m => m.Op != OpCode.Detach).OrderBy(m => m.Id)],
            });
        }
        return found;
    }

    /// <summary>The root's stage, then every stage read outside the match or after the step; null when one is read before the root.</summary>
    private static List<int>? WrittenStages(SoftmaxPattern.Match match, Dictionary<Node, List<Node>> consumers, Func<Node, bool> neededAfterStep)
    {
        var members = match.Members.ToHashSet();
        int rootStage = match.Stages.Length - 1;
        var written = new List<int> { rootStage };
        for (int stage = 0; stage < rootStage; stage++)
        {
            var member = match.Stages[stage];
            var outside = consumers[member].Where(c => !members.Contains(c)).ToList();
            if (outside.Any(c => c.Id < match.Root.Id)) return null;
            if (outside.Count > 0 || neededAfterStep(member)) written.Add(stage);
        }
        return written;
    }
}
