using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>attention(x, heads, causal = false, context = none, dropout = 0, std = s)</c>: multi-head
/// scaled dot-product attention, softmax(Q·Kᵀ/√d_k [+ causal mask])·V, then an output projection.
/// Self-attention uses GPT-2's layout: one <c>qkv</c> linear [d, 3d] and <c>proj</c> [d, d], all with
/// bias. With <c>context = enc</c> it is cross-attention: <c>q</c> [d, d] reads x, <c>kv</c> [d, 2d]
/// reads enc (the same parameter count as self-attention). In decode mode causal self-attention
/// reads and writes a key/value cache instead (<see cref="KeyValueCache"/>).
/// </summary>
public static class Attention
{
    public static IEnumerable<LayerDef> All =>
        [new("attention", ["x", "heads", "causal?", "context?", "dropout?", "std?"], Lower)];

    private static Value Lower(CallArgs a, LowerContext c)
    {
        var b = c.Builder;
        var x = a.Tensor("x");
        var context = a.OptionalTensor("context");
        var causal = a.Bool("causal", false);
        var p = a.Number("dropout", 0);
        var init = a.Has("std") ? ParamInit.Normal(a.Number("std")) : ParamInit.Xavier;
        if (causal && context is not null) throw a.Error("causal", "causal masking is for self-attention, not with context =");
        if (p < 0 || p >= 1) throw a.Error("dropout", $"the drop probability must be in [0, 1), got {p}");

        RequireSequence(x, "x");
        var d = x.Shape.At(-1);
        var heads = a.Integer("heads");
        if (heads <= 0 || d.Value % heads != 0) throw a.Error("heads", $"{heads} heads do not divide the width {d}");
        var headSize = d.Value / heads;

        Node q, k, v;
        if (context is null)
        {
            var qkv = SplitHeads(b, Projection(c, "qkv", x, d * 3, init), 3, heads, headSize);
            (q, k, v) = (Pick(b, qkv, 0), Pick(b, qkv, 1), Pick(b, qkv, 2));
        }
        else
        {
            RequireSequence(context, "context");
            if (context.Shape.At(-1) != d)
                throw new ShapeException($"attention: context {context.Type} must have the width of x {x.Type}");
            q = Pick(b, SplitHeads(b, Projection(c, "q", x, d, init), 1, heads, headSize), 0);
            var kv = SplitHeads(b, Projection(c, "kv", context, d * 2, init), 2, heads, headSize);
            (k, v) = (Pick(b, kv, 0), Pick(b, kv, 1));
        }

        var attended = causal && c.CacheLength is not null
            ? KeyValueCache.Attend(c, q, k, v, headSize)
            : Attend(c, q, k, v, headSize, causal ? x.Shape.At(-2) : null, p);
        var merged = b.Reshape(b.Permute(attended, [0, 2, 1, 3]), x.Shape);
        return new TensorValue(Projection(c, "proj", merged, d, init));
    }

    /// <summary>softmax(Q·Kᵀ/√d_k [+ causal mask])·V over the keys given: [B, h, T, dk] · [B, h, S, dk]ᵀ -> [B, h, T, S] -> [B, h, T, dk].</summary>
    private static Node Attend(LowerContext c, Node q, Node k, Node v, long headSize, Dim? causalLength, double dropout)
    {
        var b = c.Builder;
        var weights = Dropout.Apply(c, Weights(b, q, k, 1 / Math.Sqrt(headSize), causalLength), dropout);
        return b.MatMul(weights, v);
    }

    /// <summary>
    /// The attention weights softmax(Q·Kᵀ·scale [+ causal mask]) over the last axis, before dropout:
    /// what the layer lowers to, and what the conformance suite's attention patterns are built from.
    /// </summary>
    public static Node Weights(GraphBuilder b, Node q, Node k, double scale, Dim? causalLength)
    {
        var scores = b.Mul(b.MatMul(q, k, transposeB: true), b.Scalar(scale));
        if (causalLength is not null) scores = b.Add(scores, b.CausalMask(causalLength));
        return Softmax.Apply(b, scores, -1);
    }

    private static void RequireSequence(Node t, string what)
    {
        if (t.DType != DType.F32 || t.Shape.Rank != 3 || !t.Shape.At(-1).IsConstant)
            throw new ShapeException($"attention: {what} must be f32[B, T, d] with a fixed d, got {t.Type}");
    }

    /// <summary>A linear named <paramref name="name"/>, which is also its LoRA role (qkv, q, kv, proj).</summary>
    private static Node Projection(LowerContext c, string name, Node x, Dim width, ParamInit init)
    {
        using (c.Builder.Scope(name))
            return Linear.Apply(c, x, width, true, init, ParamCategory.Attention, role: name);
    }

    /// <summary>[B, T, n·h·dk] -> [n, B, h, T, dk]: the n stacked projections, each split into heads.</summary>
    private static Node SplitHeads(GraphBuilder b, Node t, int n, long heads, long headSize)
    {
        var (batch, length) = (t.Shape[0], t.Shape[1]);
        var split = b.Reshape(t, Shape.Of(batch, length, Dim.Const(n), Dim.Const(heads), Dim.Const(headSize)));
        return b.Permute(split, [2, 0, 3, 1, 4]);
    }

    /// <summary>Row i of the leading axis (there is no slice primitive; a Gather with a scalar index is one).</summary>
    private static Node Pick(GraphBuilder b, Node stacked, int i) => b.Gather(stacked, b.Cast(b.Scalar(i), DType.I32));
}
