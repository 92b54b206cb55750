using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>dropout(x, p)</c>: x times a fresh DropoutMask when training (the mask holds 0 or 1/(1-p),
/// inverted dropout, so nothing needs rescaling at inference); the identity otherwise or when p = 0.
/// </summary>
public static class Dropout
{
    public static IEnumerable<LayerDef> All => [new("dropout", ["x", "p"], (a, c) =>
    {
        var x = a.Tensor("x");
        var p = a.Number("p");
        if (p < 0 || p >= 1) throw a.Error("p", $"the drop probability must be in [0, 1), got {p}");
        return new TensorValue(Apply(c, x, p));
    })];

    public static Ir.Node Apply(LowerContext c, Ir.Node x, double p)
    {
        if (!c.Training || p == 0) return x;
        if (x.DType != DType.F32) throw new ShapeException($"dropout: expected f32 but got {x.Type}");
        return c.Builder.Mul(x, c.Builder.DropoutMask(x.Shape, p));
    }
}
