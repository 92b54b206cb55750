using Dataflow.Graph.Ir;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// softmax and log_softmax, numerically stable: the (detached) maximum is subtracted first. It is
/// detached because softmax does not depend on it mathematically, so no gradient should flow there.
/// </summary>
public static class Softmax
{
    public static IEnumerable<LayerDef> All =>
    [
        new("softmax", ["x", "axis?", "temperature?"], (a, c) =>
        {
            var x = a.Tensor("x");
            var t = a.Number("temperature", 1);
            if (t <= 0) throw a.Error("temperature", $"temperature must be positive, got {t}");
            if (t != 1) x = c.Builder.Div(x, c.Builder.Scalar(t));
            return new TensorValue(Apply(c.Builder, x, (int)a.Integer("axis", -1)));
        }),
        new("log_softmax", ["x", "axis?"], (a, c) =>
            new TensorValue(Log(c.Builder, a.Tensor("x"), (int)a.Integer("axis", -1)))),
    ];

    public static Node Apply(GraphBuilder b, Node x, int axis)
    {
        var e = b.Exp(b.Sub(x, b.Detach(b.ReduceMax(x, [axis], keepDims: true))));
        return b.Div(e, b.ReduceSum(e, [axis], keepDims: true));
    }

    public static Node Log(GraphBuilder b, Node x, int axis)
    {
        var shifted = b.Sub(x, b.Detach(b.ReduceMax(x, [axis], keepDims: true)));
        return b.Sub(shifted, b.Log(b.ReduceSum(b.Exp(shifted), [axis], keepDims: true)));
    }
}
