using Dataflow.Engine.Backends;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Recognises the primitives that <c>cross_entropy</c> (without label smoothing) and the policy losses'
/// picked log-probabilities lower to (graph/Dataflow.Graph/Dsl/Layers/Losses.cs and PolicyLosses.cs, through
/// <c>Softmax.Log</c>), and the chain the catalog's gradient rules build for them, each matched from its root:
/// <code>
/// forward:  m = reduce_max(x, last, keep);  z = x − detach(m);  s = reduce_sum(exp(z), last, keep)
///           y = reduce_sum(one_hot(t) · (z − log s), all | last)
/// backward: dx = g·q + expand(reduce_sum(−(g·q), last, keep) / s) · e     (g·q = expand(g) · one_hot(t))
/// </code>
/// (the backward is the Mul rule's product, the Sub rule's two terms, the Log rule's quotient, the ReduceSum
/// rule's expand and the Exp rule's product, summed by the differentiator). What follows the sum (the mean,
/// the mask) stays with the elementwise fusion; label smoothing, another axis or other operand orders too.
/// </summary>
internal static class CrossEntropyPattern
{
    /// <summary>A match: the node of every stage (indexed by its stage enum), every node the kernel replaces, and its inputs.</summary>
    public sealed record Match(Node[] Stages, Node[] Members, Node[] Inputs, bool PerRow);

    public static Match? TryMatchForward(TensorGraph graph, Node root)
    {
        if (root.Op != OpCode.ReduceSum || root.DType != DType.F32 || root.Attrs.KeepDims) return null;
        if (!Is(graph, graph.Operands(root)[0], OpCode.Mul, out var q, out var logProbs)) return null;
        var picked = graph.Operands(root)[0];
        if (!IsOneHot(graph, q, out var targets)) return null;
        if (!Is(graph, logProbs, OpCode.Sub, out var shifted, out var logSum)) return null;
        if (!Is(graph, logSum, OpCode.Log, out var s, out _)) return null;
        if (!LayerNormPattern.IsLastAxisSum(graph, s, out var e) || s.DType != DType.F32) return null;
        if (!Is(graph, e, OpCode.Exp, out var shifted2, out _) || shifted2 != shifted) return null;
        if (!Is(graph, shifted, OpCode.Sub, out var x, out var detached) || detached.Op != OpCode.Detach) return null;
        var max = graph.Operands(detached)[0];
        if (max.Op != OpCode.ReduceMax || !IsLastAxis(graph, max) || graph.Operands(max)[0] != x) return null;
        if (x.DType != DType.F32 || x.Op == OpCode.Expand || x.Shape.Rank < 1) return null;
        if (!picked.Shape.Equals(x.Shape) || !q.Shape.Equals(x.Shape) || !logProbs.Shape.Equals(x.Shape)) return null;
        if (!Axes(root, x.Shape.Rank, out bool perRow)) return null;

        var stages = new Node[(int)CrossEntropyStage.Output + 1];
        stages[(int)CrossEntropyStage.Max] = max;
        stages[(int)CrossEntropyStage.Shifted] = shifted;
        stages[(int)CrossEntropyStage.Exp] = e;
        stages[(int)CrossEntropyStage.Sum] = s;
        stages[(int)CrossEntropyStage.LogSum] = logSum;
        stages[(int)CrossEntropyStage.LogProbs] = logProbs;
        stages[(int)CrossEntropyStage.OneHot] = q;
        stages[(int)CrossEntropyStage.Picked] = picked;
        stages[(int)CrossEntropyStage.Output] = root;
        return new Match(stages, [.. stages, detached], [x, targets], perRow);
    }

    public static Match? TryMatchBackward(TensorGraph graph, Node root)
    {
        if (!Is(graph, root, OpCode.Add, out var gradLogProbs, out var scaled)) return null;
        if (!Is(graph, scaled, OpCode.Mul, out var spread, out var e) || spread.Op != OpCode.Expand || e.Op != OpCode.Exp) return null;
        var overSum = graph.Operands(spread)[0];
        if (!Is(graph, overSum, OpCode.Div, out var rowSum, out var s)) return null;
        if (!LayerNormPattern.IsLastAxisSum(graph, rowSum, out var negated) || rowSum.DType != DType.F32) return null;
        if (!Is(graph, negated, OpCode.Neg, out var gradLogProbs2, out _) || gradLogProbs2 != gradLogProbs) return null;
        if (!Is(graph, gradLogProbs, OpCode.Mul, out var gradSpread, out var q) || gradSpread.Op != OpCode.Expand) return null;
        if (!IsOneHot(graph, q, out _)) return null;
        // s must be the forward's row sums over this e.
        if (!LayerNormPattern.IsLastAxisSum(graph, s, out var summed) || summed != e) return null;
        var shape = e.Shape;
        if (shape.Rank < 1 || !q.Shape.Equals(shape) || !gradLogProbs.Shape.Equals(shape) || !spread.Shape.Equals(shape)
            || !gradSpread.Shape.Equals(shape) || !overSum.Shape.Equals(s.Shape) || !root.Shape.Equals(shape)) return null;
        var grad = graph.Operands(gradSpread)[0];
        // One upstream value in all, or one per row, broadcast along the classes.
        if (grad.DType != DType.F32 || grad.Op == OpCode.Expand || !IsOnePerRowOrOne(grad.Shape, shape, out bool perRow)) return null;

        var stages = new Node[(int)CrossEntropyBackwardStage.Output + 1];
        stages[(int)CrossEntropyBackwardStage.GradLogProbs] = gradLogProbs;
        stages[(int)CrossEntropyBackwardStage.Negated] = negated;
        stages[(int)CrossEntropyBackwardStage.RowSum] = rowSum;
        stages[(int)CrossEntropyBackwardStage.OverSum] = overSum;
        stages[(int)CrossEntropyBackwardStage.Scaled] = scaled;
        stages[(int)CrossEntropyBackwardStage.Output] = root;
        return new Match(stages, [.. stages, spread, gradSpread], [grad, q, s, e], perRow);
    }

    private static bool Is(TensorGraph graph, Node node, OpCode op, out Node a, out Node b) => LayerNormPattern.Is(graph, node, op, out a, out b);

    /// <summary>one_hot(t) over the last axis, t an i32 tensor read as it is stored.</summary>
    private static bool IsOneHot(TensorGraph graph, Node node, out Node targets)
    {
        targets = node;
        if (node.Op != OpCode.OneHot) return false;
        targets = graph.Operands(node)[0];
        return targets.DType == DType.I32 && targets.Op != OpCode.Expand;
    }

    private static bool IsLastAxis(TensorGraph graph, Node reduce)
    {
        if (!reduce.Attrs.KeepDims || reduce.Attrs.Axes.Length != 1) return false;
        int last = graph.Operands(reduce)[0].Shape.Rank - 1, axis = reduce.Attrs.Axes[0];
        return last >= 0 && (axis == last || axis == -1);
    }

    /// <summary>The sum is over every axis (one value in all) or over the last only (one per row).</summary>
    private static bool Axes(Node reduce, int rank, out bool perRow)
    {
        var axes = reduce.Attrs.Axes.Select(a => a < 0 ? a + rank : a).Order().ToArray();
        perRow = axes.Length == 1 && axes[0] == rank - 1;
        return perRow || axes.SequenceEqual(Enumerable.Range(0, rank));
    }

    /// <summary>[1, …, 1] or [rows…, 1] against [rows…, classes], as the ReduceSum rule reshapes a gradient to keep the axes.</summary>
    private static bool IsOnePerRowOrOne(Shape grad, Shape full, out bool perRow)
    {
        perRow = false;
        if (grad.Rank == 0) return true;
        if (grad.Rank != full.Rank || !IsOne(grad[grad.Rank - 1])) return false;
        bool ones = true, rows = true;
        for (int i = 0; i < full.Rank - 1; i++)
        {
            ones &= IsOne(grad[i]);
            rows &= grad[i].Equals(full[i]);
        }
        perRow = !ones && rows;
        return ones || rows;
    }

    private static bool IsOne(Dim dim) => dim.IsConstant && dim.Value == 1;
}
