using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>value_head(h)</c>: a scalar per sequence, for reward models (and value functions): a linear
/// from h f32[B, T, d] to one number per position, read at position <c>last[b]</c> of each row (the
/// last token that is not padding). <c>last : i32[B]</c> is an input the layer declares on first use,
/// as decode mode declares <c>position</c>; the result is f32[B].
/// </summary>
public static class ValueHead
{
    public const string LastInput = "last";

    public static IEnumerable<LayerDef> All => [new("value_head", ["h", "std?"], (a, c) =>
        new TensorValue(Apply(c, a.Tensor("h"), a.Has("std") ? ParamInit.Normal(a.Number("std")) : ParamInit.Normal(0.02))))];

    public static Ir.Node Apply(LowerContext c, Ir.Node h, ParamInit init)
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
        return b.ReduceSum(b.Mul(b.OneHot(last, length), values), [1]);
    }
}
