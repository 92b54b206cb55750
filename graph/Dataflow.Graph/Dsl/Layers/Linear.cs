using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;
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
        return new TensorValue(Apply(c, x, args.Size("out"), args.Bool("bias", true), init, ParamCategory.Other, LoraTargets.Linear));
    }

    /// <summary>
    /// The lowering itself, for layers built from linears (attention, mlp); parameters are named in the
    /// current scope. <paramref name="role"/> is the name LoRA targets it by (<see cref="LoraTargets"/>);
    /// null: never adapted. An adapted linear adds peft's low-rank path, (alpha/r)·(x A) B, beside x W.
    /// </summary>
    public static Node Apply(LowerContext c, Node x, Dim outFeatures, bool bias, ParamInit init, ParamCategory category, string? role = null)
    {
        var b = c.Builder;
        if (x.Shape.Rank < 1 || x.DType != DType.F32)
            throw new ShapeException($"linear: the input must be an f32 tensor of rank >= 1, got {x.Type}");
        var inFeatures = x.Shape.At(-1);
        if (!inFeatures.IsConstant)
            throw new ShapeException($"linear: the input's last axis must have a fixed size, got {x.Type}");
        var weight = c.Parameter("weight", Shape.Of(inFeatures, outFeatures), init, category);
        var y = Project(b, x, weight);
        if (role is not null) c.LinearRoles.Add(role);
        if (c.Lora is { } lora && lora.Adapts(role))
        {
            var rank = Dim.Const(lora.Rank);
            var a = c.Parameter(LoraConfig.ASuffix, Shape.Of(inFeatures, rank), ParamInit.KaimingUniform, ParamCategory.Adapter);
            var low = c.Parameter(LoraConfig.BSuffix, Shape.Of(rank, outFeatures), ParamInit.Zeros, ParamCategory.Adapter);
            y = b.Add(y, b.Mul(Project(b, Project(b, x, a), low), b.Scalar(lora.Scale)));
        }
        return bias ? b.Add(y, c.Parameter("bias", Shape.Of(outFeatures), ParamInit.Zeros, category)) : y;
    }

    /// <summary>x @ w for x of any rank ≥ 1 (a vector is one row).</summary>
    public static Node Project(GraphBuilder b, Node x, Node w) => x.Shape.Rank == 1
        ? b.Reshape(b.MatMul(b.Reshape(x, Shape.Of(Dim.Const(1), x.Shape.At(-1))), w), Shape.Of(w.Shape.At(-1)))
        : b.MatMul(x, w);
}
