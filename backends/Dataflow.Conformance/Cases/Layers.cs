using Dataflow.Graph.Ir;

namespace Dataflow.Conformance.Cases;

/// <summary>
/// Common layers written out in primitives, the way the DSL lowers them, so that the fused-pattern
/// and model cases present the fusion system with the chains real models give it.
/// </summary>
internal static class Layers
{
    public static Node Sigmoid(GraphBuilder b, Node x) => Graph.Dsl.Layers.Activations.Sigmoid(b, x);

    public static Node Relu(GraphBuilder b, Node x) => b.Max(x, b.Scalar(0));

    /// <summary>GELU, tanh approximation: 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static Node GeluTanh(GraphBuilder b, Node x)
    {
        var cube = b.Mul(x, b.Mul(x, x));
        var inner = b.Mul(b.Scalar(Math.Sqrt(2 / Math.PI)), b.Add(x, b.Mul(b.Scalar(0.044715), cube)));
        return b.Mul(b.Mul(b.Scalar(0.5), x), b.Add(b.Scalar(1), b.Tanh(inner)));
    }

    /// <summary>Softmax over the last axis, max-subtracted; the statistics come back through explicit expands (broadcast loads).</summary>
    public static Node Softmax(GraphBuilder b, Node x)
    {
        var shifted = b.Sub(x, b.Expand(b.ReduceMax(x, [-1], keepDims: true), x.Shape));
        var e = b.Exp(shifted);
        return b.Div(e, b.Expand(b.ReduceSum(e, [-1], keepDims: true), x.Shape));
    }

    public static Node LogSoftmax(GraphBuilder b, Node x)
    {
        var shifted = b.Sub(x, b.Expand(b.ReduceMax(x, [-1], keepDims: true), x.Shape));
        var logSum = b.Log(b.ReduceSum(b.Exp(shifted), [-1], keepDims: true));
        return b.Sub(shifted, b.Expand(logSum, x.Shape));
    }

    /// <summary>Mean over the batch of −log softmax(logits)[target].</summary>
    public static Node CrossEntropy(GraphBuilder b, Node logits, Node targets)
    {
        var classes = logits.Shape[^1];
        var picked = b.ReduceSum(b.Mul(b.OneHot(targets, classes), LogSoftmax(b, logits)), [-1]);
        return b.Neg(b.ReduceMean(picked, [0]));
    }

    /// <summary>Layer norm over the last axis: (x − mean)/√(var + ε)·γ + β.</summary>
    public static Node LayerNorm(GraphBuilder b, Node x, Node gamma, Node beta, double epsilon = 1e-5)
    {
        var centred = b.Sub(x, b.ReduceMean(x, [-1], keepDims: true));
        var variance = b.ReduceMean(b.Mul(centred, centred), [-1], keepDims: true);
        var scale = b.Recip(b.Sqrt(b.Add(variance, b.Scalar(epsilon))));
        return b.Add(b.Mul(b.Mul(centred, scale), gamma), beta);
    }

    public static Node Linear(GraphBuilder b, Node x, Node weight, Node bias) => b.Add(b.MatMul(x, weight), bias);
}
