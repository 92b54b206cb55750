using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary><c>layernorm(x, eps = 1e-5)</c> over the last axis, with a gain (ones) and a bias (zeros).</summary>
public static class LayerNorm
{
    public static IEnumerable<LayerDef> All => [new("layernorm", ["x", "eps?"], (a, c) =>
    {
        var eps = a.Number("eps", 1e-5);
        if (eps <= 0) throw a.Error("eps", $"eps must be positive, got {eps}");
        return new TensorValue(Apply(c, a.Tensor("x"), eps));
    })];

    public static Node Apply(LowerContext c, Node x, double eps)
    {
        var b = c.Builder;
        if (x.DType != DType.F32 || x.Shape.Rank < 1 || !x.Shape.At(-1).IsConstant)
            throw new ShapeException($"layernorm: the input must be f32[..., d] with a fixed d, got {x.Type}");
        var d = x.Shape.At(-1);
        var centered = b.Sub(x, b.ReduceMean(x, [-1], keepDims: true));
        var variance = b.ReduceMean(b.Mul(centered, centered), [-1], keepDims: true);
        var normalized = b.Div(centered, b.Sqrt(b.Add(variance, b.Scalar(eps))));
        var gain = c.Parameter("weight", Shape.Of(d), ParamInit.Ones, ParamCategory.Norm);
        var bias = c.Parameter("bias", Shape.Of(d), ParamInit.Zeros, ParamCategory.Norm);
        return b.Add(b.Mul(normalized, gain), bias);
    }
}
