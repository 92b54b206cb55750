using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Recognises the primitives that <c>softmax</c> lowers to (graph/Dataflow.Graph/Dsl/Layers/Softmax.cs,
/// <c>Apply</c>) and the chain the catalog's gradient rules build for it, each matched from its root:
/// <code>
/// forward:  m = reduce_max(x, last, keep);  e = exp(x − detach(m));  s = reduce_sum(e, last, keep);  y = e / s
/// backward: dx = (g / s + expand(reduce_sum(−(g · y / s), last, keep))) · e
/// </code>
/// (the backward is the Div rule's two terms, the ReduceSum rule's expand, their sum, then the Exp
/// rule's product). Anything else (another axis, a broadcast gradient, other operand orders) is left
/// to the elementwise fusion, which still computes it correctly, only in more kernels.
/// </summary>
internal static class SoftmaxPattern
{
    /// <summary>A match: the node of every stage (indexed by its stage enum), every node the kernel replaces, and its inputs.</summary>
    public sealed record Match(LoadedTensor[] Stages, LoadedTensor[] Members, LoadedTensor[] Inputs)
    {
        public LoadedTensor Root => Stages[^1];
    }

    public static Match? TryMatchForward(TensorGraph graph, LoadedTensor root)
    {
        if (!Is(graph, root, OpCode.Div, out var e, out var s)) return null;
        if (!IsLastAxisSum(graph, s, out var summed) || summed != e) return null;
        if (!Is(graph, e, OpCode.Exp, out var shifted, out _)) return null;
        if (!Is(graph, shifted, OpCode.Sub, out var x, out var detached) || detached.Op != OpCode.Detach) return null;
        var max = graph.Operands(detached)[0];
        if (max.Op != OpCode.ReduceMax || !IsLastAxis(graph, max) || graph.Operands(max)[0] != x) return null;
        if (!IsRowMajorInput(x) || !root.SameShape(x)) return null;

        var stages = new LoadedTensor[(int)SoftmaxStage.Output + 1];
        stages[(int)SoftmaxStage.Max] = max;
        stages[(int)SoftmaxStage.Shifted] = shifted;
        stages[(int)SoftmaxStage.Exp] = e;
        stages[(int)SoftmaxStage.Sum] = s;
        stages[(int)SoftmaxStage.Output] = root;
        return new Match(stages, [.. stages, detached], [x]);
    }

    public static Match? TryMatchBackward(TensorGraph graph, LoadedTensor root)
    {
        if (!Is(graph, root, OpCode.Mul, out var combined, out var e) || e.Op != OpCode.Exp) return null;
        if (!Is(graph, combined, OpCode.Add, out var gradOverSum, out var expanded) || expanded.Op != OpCode.Expand) return null;
        if (!Is(graph, gradOverSum, OpCode.Div, out var g, out var s)) return null;
        var rowSum = graph.Operands(expanded)[0];
        if (!IsLastAxisSum(graph, rowSum, out var negated) || !rowSum.SameShape(s) || !expanded.SameShape(e)) return null;
        if (!Is(graph, negated, OpCode.Neg, out var scaled, out _)) return null;
        if (!Is(graph, scaled, OpCode.Div, out var product, out var s2) || s2 != s) return null;
        if (!Is(graph, product, OpCode.Mul, out var g2, out var y) || g2 != g) return null;
        // y and s must be the forward softmax's own output and row sums over e.
        if (!Is(graph, y, OpCode.Div, out var e2, out var s3) || e2 != e || s3 != s) return null;
        if (!IsLastAxisSum(graph, s, out var summed) || summed != e) return null;
        if (!IsRowMajorInput(g) || !g.SameShape(e) || !root.SameShape(e)) return null;

        var stages = new LoadedTensor[(int)SoftmaxBackwardStage.Output + 1];
        stages[(int)SoftmaxBackwardStage.GradOverSum] = gradOverSum;
        stages[(int)SoftmaxBackwardStage.GradTimesOutput] = product;
        stages[(int)SoftmaxBackwardStage.ScaledBySum] = scaled;
        stages[(int)SoftmaxBackwardStage.Negated] = negated;
        stages[(int)SoftmaxBackwardStage.RowSum] = rowSum;
        stages[(int)SoftmaxBackwardStage.Combined] = combined;
        stages[(int)SoftmaxBackwardStage.Output] = root;
        return new Match(stages, [.. stages, expanded], [g, y, s, e]);
    }

    private static bool Is(TensorGraph graph, LoadedTensor node, OpCode op, out LoadedTensor a, out LoadedTensor b) => LayerNormPattern.Is(graph, node, op, out a, out b);

    /// <summary>An f32 tensor read as it is stored (a broadcast has no rows of its own).</summary>
    private static bool IsRowMajorInput(LoadedTensor node) => node.DType == DType.F32 && node.Op != OpCode.Expand && node.Rank >= 1;

    private static bool IsLastAxis(TensorGraph graph, LoadedTensor reduce)
    {
        int last = graph.Operands(reduce)[0].Rank - 1;
        return reduce.Has(OpFlags.KeepDims) && last >= 0 && reduce.Axes == 1u << last;
    }

    private static bool IsLastAxisSum(TensorGraph graph, LoadedTensor node, out LoadedTensor input) =>
        LayerNormPattern.IsLastAxisSum(graph, node, out input) && node.DType == DType.F32;
}
