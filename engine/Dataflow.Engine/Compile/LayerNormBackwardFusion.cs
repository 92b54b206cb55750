using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns each lowered layer norm's gradient (<see cref="LayerNormPattern.TryMatchBackward"/>) into one
/// <see cref="LayerNormBackwardSpec"/> kernel where the backend supports it. The kernel runs at dx's place
/// and writes dx and the gain's and bias's sums over rows, so a match is taken only when nothing but those
/// is read outside it, when what reads the sums (through the reshapes to [d], which are aliases) comes after
/// dx, and when it overlaps no other pattern; elsewhere the elementwise fusion takes the nodes.
/// </summary>
internal static class LayerNormBackwardFusion
{
    public static Dictionary<LoadedTensor, (LoadedTensor[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<LoadedTensor> nodes,
        ISet<LoadedTensor> taken, Func<LoadedTensor, bool> neededAfterStep)
    {
        var found = new Dictionary<LoadedTensor, (LoadedTensor[], KernelDraft)>();
        foreach (var node in nodes)
        {
            if (LayerNormPattern.TryMatchBackward(graph, node) is not { } match) continue;
            if (match.Members.Any(taken.Contains)) continue;
            LoadedTensor[] sums = [.. new[] { match.GainGrad, match.BiasGrad }.Where(s => s.HasValue).Select(s => s!.Value)];
            var members = match.Members.ToHashSet();
            bool inside = match.Members.All(m => m == node || sums.Contains(m)
                || (!neededAfterStep(m) && graph.Readers(m).All(members.Contains)));
            if (!inside || !sums.All(s => ReadOnlyAfter(graph, s, node))) continue;

            var rows = world.Get<TensorInfo>(graph[match.Inputs[0]]).Desc;
            long width = rows.Shape[^1];
            var spec = new LayerNormBackwardSpec(rows.Elements / Math.Max(1, width), width, match.MeanScale, match.VarianceScale, match.Two,
                HasIncoming: match.Inputs.Length > 5, HasGainGrad: match.GainGrad.HasValue, HasBiasGrad: match.BiasGrad.HasValue);
            if (!context.Backend.SupportsOp(spec).IsSupported) continue;
            taken.UnionWith(members);
            found[node] = (match.Members, new KernelDraft(
                spec,
                [.. match.Inputs.Select(i => graph[i])],
                [graph[node], .. sums.Select(s => graph[s])],
                [.. match.Members.OrderBy(m => m.Id).Select(m => graph[m])]));
        }
        return found;
    }

    /// <summary>Whether every reader of <paramref name="node"/>, looking through aliases, comes after <paramref name="root"/>.</summary>
    private static bool ReadOnlyAfter(TensorGraph graph, LoadedTensor node, LoadedTensor root) =>
        graph.Readers(node).All(r => r.Op is OpCode.Reshape or OpCode.Detach ? ReadOnlyAfter(graph, r, root) : r.Id > root.Id);
}
