using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>linear(x, out, bias = true, std = s)</c>: y = x @ W + b with W [in, out], in taken from x's
/// last axis. Matmul broadcasting lets x have any leading axes. Xavier init unless a std is given.
/// </summary>
public static class Linear
{
    public static IEnumerable<LayerDef> All => [new("linear", ["x", "out", "bias?", "std?"], Lower)];

    private static Value Lower(CallArgs args, LowerContext c)
    {
        var x = args.Tensor("x");
        var init = args.Has("std") ? ParamInit.Normal(args.Number("std")) : ParamInit.Xavier;
        return new TensorValue(Apply(c, x, args.Size("out"), args.Bool("bias", true), init, ParamCategory.Other));
    }

    /// <summary>The lowering itself, for layers built from linears (attention, mlp); parameters are named in the current scope.</summary>
    public static Node Apply(LowerContext c, Node x, Dim outFeatures, bool bias, ParamInit init, ParamCategory category)
    {
        var b = c.Builder;
        if (x.Shape.Rank < 1 || x.DType != DType.F32)
            throw new ShapeException($"linear: the input must be an f32 tensor of rank >= 1, got {x.Type}");
        var inFeatures = x.Shape.At(-1);
        if (!inFeatures.IsConstant)
            throw new ShapeException($"linear: the input's last axis must have a fixed size, got {x.Type}");
        var weight = c.Parameter("weight", Shape.Of(inFeatures, outFeatures), init, category);
        var y = x.Shape.Rank == 1
            ? b.Reshape(b.MatMul(b.Reshape(x, Shape.Of(Dim.Const(1), inFeatures)), weight), Shape.Of(outFeatures))
            : b.MatMul(x, weight);
        return bias ? b.Add(y, c.Parameter("bias", Shape.Of(outFeatures), ParamInit.Zeros, category)) : y;
    }
}
