using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns attention (<see cref="AttentionPattern"/>) into one <see cref="AttentionSpec"/> kernel, and its
/// gradient, where it is matched too, into one <see cref="AttentionBackwardSpec"/> kernel that recomputes
/// the probabilities from q, k and the forward's row statistics, for <see cref="FusionSystem"/>. The
/// forward is taken alone only when nothing outside it reads its scores or probabilities (inference);
/// with its backward, when only the backward does. Either kernel runs at its root's place, so each
/// output's outside readers must come after that root; the mask's leaf is replaced where only the
/// pattern reads it. Matched before the softmax patterns, which take what is left.
/// </summary>
internal static class AttentionFusion
{
    public static Dictionary<LoadedTensor, (LoadedTensor[] Members, KernelDraft Kernel)> Match(
        World world, CompileContext context, TensorGraph graph, IReadOnlyList<LoadedTensor> nodes,
        ISet<LoadedTensor> taken, Func<LoadedTensor, bool> neededAfterStep)
    {
        var found = new Dictionary<LoadedTensor, (LoadedTensor[], KernelDraft)>();
        foreach (var node in nodes)
        {
            if (AttentionPattern.TryMatchForward(graph, node) is not { } forward) continue;
            var backward = AttentionPattern.TryMatchBackward(graph, forward);
            var computed = forward.Computed.ToList();
            if (forward.Mask is { } mask && graph.Readers(mask).All(r => r == forward.Masked) && !neededAfterStep(mask)) computed.Add(mask);
            var members = computed.Concat(backward?.Members ?? []).ToHashSet();
            if (members.Overlaps(taken)) continue;
            if (backward is not null && !OnlyOutputsLeave(graph, backward.Members, [backward.GradQ, backward.GradK, backward.GradV], members, backward.Root, neededAfterStep))
                backward = null;
            if (backward is null)
            {
                // Forward alone: its T×S stages must not be needed outside it.
                members = [.. computed];
                if (!OnlyOutputsLeave(graph, computed, [forward.Root], members, forward.Root, neededAfterStep)) continue;
            }
            else if (!OnlyOutputsLeave(graph, computed, [forward.Root, forward.Max, forward.Sum], members, forward.Root, neededAfterStep)) continue;

            var q = world.Get<TensorInfo>(graph[forward.Q]).Desc;
            var k = world.Get<TensorInfo>(graph[forward.K]).Desc;
            long width = q.Shape[^1], queries = q.Shape[^2], keys = k.Shape[^2];
            long batchHeads = q.Elements / Math.Max(1, queries * width);
            float scale = (float)forward.ScaleConstant.Value;
            bool causal = forward.Mask is not null;
            var forwardSpec = new AttentionSpec(batchHeads, queries, keys, width, scale, causal, WritesRowStatistics: backward is not null);
            if (!context.Backend.SupportsOp(forwardSpec).IsSupported) continue;
            AttentionBackwardSpec? backwardSpec = backward is null ? null : new(batchHeads, queries, keys, width, scale, causal);
            if (backwardSpec is not null && !context.Backend.SupportsOp(backwardSpec).IsSupported) continue;

            taken.UnionWith(members);
            LoadedTensor[] forwardOutputs = backward is null ? [forward.Root] : [forward.Root, forward.Max, forward.Sum];
            found[forward.Root] = ([.. computed], Draft(graph, forwardSpec, [forward.Q, forward.K, forward.V], forwardOutputs, computed));
            if (backward is not null)
                found[backward.Root] = (backward.Members, Draft(graph, backwardSpec!,
                    [forward.Q, forward.K, forward.V, forward.Root, backward.GradOutput, forward.Max, forward.Sum],
                    [backward.GradQ, backward.GradK, backward.GradV], backward.Members));
        }
        return found;
    }

    /// <summary>
    /// Whether, of <paramref name="stages"/>, only <paramref name="outputs"/> are read outside <paramref name="members"/>
    /// or needed after the step, and every outside reader of an output comes after <paramref name="root"/>.
    /// </summary>
    private static bool OnlyOutputsLeave(TensorGraph graph, IEnumerable<LoadedTensor> stages, LoadedTensor[] outputs, IReadOnlySet<LoadedTensor> members, LoadedTensor root, Func<LoadedTensor, bool> neededAfterStep)
    {
        foreach (var stage in stages)
        {
            var outside = graph.Readers(stage).Where(r => !members.Contains(r)).ToList();
            if (!outputs.Contains(stage)) { if (outside.Count > 0 || neededAfterStep(stage)) return false; }
            else if (outside.Any(r => r.Id < root.Id)) return false;
        }
        return true;
    }

    // The detach is an alias, not computed by the kernel.
    private static KernelDraft Draft(TensorGraph graph, KernelSpec spec, LoadedTensor[] inputs, LoadedTensor[] outputs, IEnumerable<LoadedTensor> members) => new(
        spec, [.. inputs.Select(i => graph[i])], [.. outputs.Select(o => graph[o])],
        [.. members.Where(m => m.Op != OpCode.Detach).OrderBy(m => m.Id).Select(m => graph[m])]);
}
