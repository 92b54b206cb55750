using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>Scalar losses: mean squared error and (label-smoothed, optionally masked) softmax cross-entropy.</summary>
public static class Losses
{
    public static IEnumerable<LayerDef> All =>
    [
        new("mse", ["pred", "target"], (a, c) => new TensorValue(Mse(c.Builder, a.Tensor("pred"), a.Tensor("target")))),
        new("cross_entropy", ["logits", "targets", "label_smoothing?", "ignore?"], (a, c) =>
        {
            var eps = a.Number("label_smoothing", 0);
            if (eps < 0 || eps >= 1) throw a.Error("label_smoothing", $"label_smoothing must be in [0, 1), got {eps}");
            var logits = a.Tensor("logits");
            long? ignore = a.Raw("ignore") is null or SymbolValue { Name: "none" } ? null : a.Integer("ignore");
            // The ignored id must be a class: OneHot still sees it, and the mask compares against it.
            var classes = logits.Shape.Rank > 0 && logits.Shape.At(-1).IsConstant ? logits.Shape.At(-1).Value : 0;
            if (ignore is { } i && (i < 0 || i >= classes))
                throw a.Error("ignore", $"ignore must be a class index in [0, {classes}), got {i}");
            return new TensorValue(CrossEntropy(c.Builder, logits, a.Tensor("targets"), eps, ignore));
        }),
    ];

    /// <summary>The mean over all elements of (pred - target)².</summary>
    public static Node Mse(GraphBuilder b, Node pred, Node target)
    {
        var d = b.Sub(pred, target);
        var squared = b.Mul(d, d);
        return squared.Shape.Rank == 0 ? squared : b.ReduceMean(squared, Enumerable.Range(0, squared.Shape.Rank));
    }

    /// <summary>
    /// Mean over the targets of -Σ_c q_c · log_softmax(logits)_c, with q = (1-ε)·onehot(target) + ε/C.
    /// The count of targets may be symbolic (B·T); it then comes from the bound shapes at run time.
    /// With <paramref name="ignore"/>, targets equal to that id (padding) contribute nothing and the
    /// mean is over the others only, so a padded batch gives the loss of its real tokens.
    /// </summary>
    public static Node CrossEntropy(GraphBuilder b, Node logits, Node targets, double smoothing, long? ignore = null)
    {
        if (logits.DType != DType.F32 || logits.Shape.Rank < 1)
            throw new ShapeException($"cross_entropy: logits must be f32[..., C], got {logits.Type}");
        if (targets.DType != DType.I32)
            throw new ShapeException($"cross_entropy: targets must be i32 class indices, got {targets.Type}");
        var batch = new Shape(logits.Shape.Dims[..^1]);
        if (!targets.Shape.Equals(batch))
            throw new ShapeException($"cross_entropy: targets {targets.Type} do not match logits {logits.Type} (targets should be i32{batch})");
        var classes = logits.Shape.At(-1);
        if (!classes.IsConstant)
            throw new ShapeException($"cross_entropy: the class axis must have a fixed size, got {logits.Type}");

        var logProbs = Softmax.Log(b, logits, -1);
        var q = b.OneHot(targets, classes);
        if (smoothing > 0)
            q = b.Add(b.Mul(q, b.Scalar(1 - smoothing)), b.Scalar(smoothing / classes.Value));
        var all = Enumerable.Range(0, logProbs.Shape.Rank);
        if (ignore is { } padId) return MaskedMean(b, b.ReduceSum(b.Mul(q, logProbs), [-1]), targets, padId);

        var total = b.ReduceSum(b.Mul(q, logProbs), all);
        var count = targets.Shape.Elements;
        return count.IsConstant
            ? b.Mul(total, b.Scalar(-1.0 / count.Value))
            : b.Div(b.Neg(total), b.DimValue(count));
    }

    /// <summary>
    /// -Σ keep·Σ_c q·log p / Σ keep, keep = (target ≠ ignore). The count is data, not shape, so it is
    /// computed in the graph; it never depends on a parameter, so autodiff passes it by. A batch with
    /// nothing to count gives 0 rather than 0/0.
    /// </summary>
    private static Node MaskedMean(GraphBuilder b, Node perTarget, Node targets, long ignore)
    {
        var axes = Enumerable.Range(0, targets.Shape.Rank).ToArray();
        Node Sum(Node x) => axes.Length == 0 ? x : b.ReduceSum(x, axes);
        var keep = b.Sub(b.Scalar(1), b.Equal(b.Cast(targets, DType.F32), b.Scalar(ignore)));
        var total = Sum(b.Mul(perTarget, keep));
        var count = b.Max(Sum(keep), b.Scalar(1));
        return b.Neg(b.Div(total, count));
    }
}
