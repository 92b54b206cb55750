using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// The normalisations over the last axis: <c>layernorm(x, eps = 1e-5)</c>, with a gain (ones) and a
/// bias (zeros), and <c>rms_norm(x, eps = 1e-5)</c> (the Llama family's), with a gain only.
/// </summary>
public static class LayerNorm
{
    public static IEnumerable<LayerDef> All =>
    [
        new("layernorm", ["x", "eps?"], (a, c) =>
        {
            var eps = Epsilon(a);
            return new TensorValue(Apply(c, a.Tensor("x"), eps));
        }),
        new("rms_norm", ["x", "eps?"], (a, c) =>
        {
            var eps = Epsilon(a);
            return new TensorValue(ApplyRms(c, a.Tensor("x"), eps));
        }),
    ];

    private static double Epsilon(CallArgs a)
    {
        var eps = a.Number("eps", 1e-5);
        return eps > 0 ? eps : throw a.Error("eps", $"eps must be positive, got {eps}");
    }

    public static Node Apply(LowerContext c, Node x, double eps)
    {
        var d = FeatureAxis("layernorm", x);
        // The statistics before the parameters, so node order (and every seeded run) stays as it was.
        var normalized = Standardize(c.Builder, x, eps);
        var gain = c.Parameter("weight", Shape.Of(d), ParamInit.Ones, ParamCategory.Norm);
        var bias = c.Parameter("bias", Shape.Of(d), ParamInit.Zeros, ParamCategory.Norm);
        return c.Builder.Add(c.Builder.Mul(normalized, gain), bias);
    }

    /// <summary>layernorm with its gain and bias given: what the conformance suite's fused patterns run.</summary>
    public static Node Normalize(GraphBuilder b, Node x, Node gain, Node bias, double eps = 1e-5) =>
        b.Add(b.Mul(Standardize(b, x, eps), gain), bias);

    /// <summary>(x − mean)/√(var + ε) over the last axis.</summary>
    private static Node Standardize(GraphBuilder b, Node x, double eps)
    {
        var centered = b.Sub(x, b.ReduceMean(x, [-1], keepDims: true));
        var variance = b.ReduceMean(b.Mul(centered, centered), [-1], keepDims: true);
        return b.Div(centered, b.Sqrt(b.Add(variance, b.Scalar(eps))));
    }

    public static Node ApplyRms(LowerContext c, Node x, double eps)
    {
        var d = FeatureAxis("rms_norm", x);
        var normalized = RootMeanSquareScale(c.Builder, x, eps);
        return c.Builder.Mul(normalized, c.Parameter("weight", Shape.Of(d), ParamInit.Ones, ParamCategory.Norm));
    }

    /// <summary>rms_norm with its gain given: what the conformance suite's fused patterns run.</summary>
    public static Node RmsNormalize(GraphBuilder b, Node x, Node gain, double eps = 1e-5) =>
        b.Mul(RootMeanSquareScale(b, x, eps), gain);

    /// <summary>x/√(mean(x²) + ε) over the last axis: no centring and no bias, so one reduction instead of two.</summary>
    private static Node RootMeanSquareScale(GraphBuilder b, Node x, double eps) =>
        b.Div(x, b.Sqrt(b.Add(b.ReduceMean(b.Mul(x, x), [-1], keepDims: true), b.Scalar(eps))));

    private static Dim FeatureAxis(string layer, Node x) =>
        x.DType == DType.F32 && x.Shape.Rank >= 1 && x.Shape.At(-1).IsConstant ? x.Shape.At(-1)
            : throw new ShapeException($"{layer}: the input must be f32[..., d] with a fixed d, got {x.Type}");
}
