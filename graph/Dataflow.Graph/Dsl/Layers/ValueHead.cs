using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>value_head(h)</c>: a scalar per sequence, for reward models (and value functions): a linear
/// from h f32[B, T, d] to one number per position, read at position <c>last[b]</c> of each row (the
/// last token that is not padding), or with <c>pool = sum</c> summed over positions 0 … last[b]. <c>last : i32[B]</c> is an input the layer declares on first use,
/// as decode mode declares <c>position</c>; the result is f32[B].
/// </summary>
public static class ValueHead
{
    public const string LastInput = "last";

    /// <summary>How the per-position values become one per row: <c>last</c> reads position <c>last[b]</c>; <c>sum</c> adds positions 0 … last[b].</summary>
    public static IReadOnlyList<string> Pools { get; } = ["last", "sum"];

    public static IEnumerable<LayerDef> All => [new("value_head", ["h", "std?", "pool?"], (a, c) =>
        new TensorValue(Apply(c, a.Tensor("h"), a.Has("std") ? ParamInit.Normal(a.Number("std")) : ParamInit.Normal(0.02), a.Choice("pool", "last", [.. Pools]) == "sum")))];

    /// <param name="sum">
    /// Sum the values of positions 0 … last[b] instead of reading the last one: a reply's reward is then
    /// the sum of its tokens' values, so a position can mark its own token (a wrong digit where the
    /// working says another) and the mark reaches the row's score directly, where the last position's
    /// state would have to find that one token by attention. The prompt's positions see no completion
    /// (causal attention), so two completions of one prompt get the same prompt values, which cancel
    /// in a pair's margin and in a group's normalised advantages.
    /// </param>
    public static Ir.Node Apply(LowerContext c, Ir.Node h, ParamInit init, bool sum = false)
    {
        var b = c.Builder;
        if (h.DType != DType.F32 || h.Shape.Rank != 3)
            throw new ShapeException($"value_head: h must be f32[B, T, d], got {h.Type}");
        var (rows, length) = (h.Shape[0], h.Shape[1]);
        var last = b.Graph.Inputs.TryGetValue(LastInput, out var declared) ? declared
            : b.Input(LastInput, new TensorType(DType.I32, Shape.Of(rows)));
        if (last.DType != DType.I32 || !last.Shape.Equals(Shape.Of(rows)))
            throw new ShapeException($"value_head: the input '{LastInput}' must be i32[{rows}], got {last.Type}");
        var values = b.Reshape(Linear.Apply(c, h, Dim.Const(1), bias: true, init, Ir.ParamCategory.Other), Shape.Of(rows, length));
        if (!sum) return b.ReduceSum(b.Mul(b.OneHot(last, length), values), [1]);
        // 1 where position t ≤ last[b]: last + ½ > t, broadcast [B, 1] against [1, T].
        var upTo = b.Reshape(b.Add(b.Cast(last, DType.F32), b.Scalar(0.5)), Shape.Of(rows, Dim.Const(1)));
        var positions = b.Reshape(b.Cast(b.Iota(length), DType.F32), Shape.Of(Dim.Const(1), length));
        return b.ReduceSum(b.Mul(b.Greater(upTo, positions), values), [1]);
    }
}
