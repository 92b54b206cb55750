using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
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
    public sealed record Match(LoadedTensor[] Stages, LoadedTensor[] Members, LoadedTensor[] Inputs, bool PerRow);

    public static Match? TryMatchForward(TensorGraph graph, LoadedTensor root)
    {
        if (root.Op != OpCode.ReduceSum || root.DType != DType.F32 || root.Has(OpFlags.KeepDims)) return null;
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
        if (x.DType != DType.F32 || x.Op == OpCode.Expand || x.Rank < 1) return null;
        if (!picked.SameShape(x) || !q.SameShape(x) || !logProbs.SameShape(x)) return null;
        if (!Axes(root, x.Rank, out bool perRow)) return null;

        var stages = new LoadedTensor[(int)CrossEntropyStage.Output + 1];
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

    public static Match? TryMatchBackward(TensorGraph graph, LoadedTensor root)
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
        if (e.Rank < 1 || !q.SameShape(e) || !gradLogProbs.SameShape(e) || !spread.SameShape(e)
            || !gradSpread.SameShape(e) || !overSum.SameShape(s) || !root.SameShape(e)) return null;
        var grad = graph.Operands(gradSpread)[0];
        // One upstream value in all, or one per row, broadcast along the classes.
        if (grad.DType != DType.F32 || grad.Op == OpCode.Expand || !IsOnePerRowOrOne(grad.Info, e.Info, out bool perRow)) return null;

        var stages = new LoadedTensor[(int)CrossEntropyBackwardStage.Output + 1];
        stages[(int)CrossEntropyBackwardStage.GradLogProbs] = gradLogProbs;
        stages[(int)CrossEntropyBackwardStage.Negated] = negated;
        stages[(int)CrossEntropyBackwardStage.RowSum] = rowSum;
        stages[(int)CrossEntropyBackwardStage.OverSum] = overSum;
        stages[(int)CrossEntropyBackwardStage.Scaled] = scaled;
        stages[(int)CrossEntropyBackwardStage.Output] = root;
        return new Match(stages, [.. stages, spread, gradSpread], [grad, q, s, e], perRow);
    }

    private static bool Is(TensorGraph graph, LoadedTensor node, OpCode op, out LoadedTensor a, out LoadedTensor b) => LayerNormPattern.Is(graph, node, op, out a, out b);

    /// <summary>one_hot(t) over the last axis, t an i32 tensor read as it is stored.</summary>
    private static bool IsOneHot(TensorGraph graph, LoadedTensor node, out LoadedTensor targets)
    {
        targets = node;
        if (node.Op != OpCode.OneHot) return false;
        targets = graph.Operands(node)[0];
        return targets.DType == DType.I32 && targets.Op != OpCode.Expand;
    }

    private static bool IsLastAxis(TensorGraph graph, LoadedTensor reduce)
    {
        int last = graph.Operands(reduce)[0].Rank - 1;
        return reduce.Has(OpFlags.KeepDims) && last >= 0 && reduce.Axes == 1u << last;
    }

    /// <summary>The sum is over every axis (one value in all) or over the last only (one per row).</summary>
    private static bool Axes(LoadedTensor reduce, int rank, out bool perRow)
    {
        perRow = rank >= 1 && reduce.Axes == 1u << (rank - 1);
        return perRow || reduce.Axes == (1u << rank) - 1;
    }

    /// <summary>[1, …, 1] or [rows…, 1] against [rows…, classes], as the ReduceSum rule reshapes a gradient to keep the axes.</summary>
    private static bool IsOnePerRowOrOne(in TensorInfo grad, in TensorInfo full, out bool perRow)
    {
        perRow = false;
        if (grad.Rank == 0) return true;
        if (grad.Rank != full.Rank || grad.Shape[grad.Rank - 1] != 1) return false;
        bool ones = true, rows = true;
        for (int i = 0; i < full.Rank - 1; i++)
        {
            ones &= grad.Shape[i] == 1;
            rows &= grad.Shape[i] == full.Shape[i];
        }
        perRow = !ones && rows;
        return ones || rows;
    }
}
