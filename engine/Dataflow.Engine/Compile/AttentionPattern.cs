using Dataflow.Engine.Components;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Recognises the primitives that scaled dot-product attention lowers to (graph/Dataflow.Graph/Dsl/Layers/Attention.cs,
/// <c>Attend</c>) and the chain the catalog's gradient rules build for it:
/// <code>
/// forward:  scores = matmul(q, k, transB) · c  [+ causal_mask];  y = softmax(scores);  out = matmul(y, v)
/// backward: dP = matmul(dO, v, transB);  dV = matmul(y, dO, transA);  dS = softmax_backward(dP) · c
///           dQ = matmul(dS, k);  dK = matmul(dS, q, transA)
/// </code>
/// (the softmax and its gradient as <see cref="SoftmaxPattern"/> matches them, or, over one key, the shorter gradient
/// the rules build there). Anything else (dropout on
/// the weights, another mask, broadcast operands) is left to the softmax and elementwise fusions.
/// </summary>
internal static class AttentionPattern
{
    /// <summary>The forward chain: its nodes, the softmax inside it, the scale constant, and q, k, v.</summary>
    public sealed record Forward(LoadedTensor Scores, LoadedTensor Scaled, LoadedTensor? Masked, LoadedTensor? Mask, SoftmaxPattern.Match Softmax, LoadedTensor Root, LoadedTensor ScaleConstant, LoadedTensor Q, LoadedTensor K, LoadedTensor V)
    {
        public LoadedTensor Probabilities => Softmax.Root;
        public LoadedTensor Max => Softmax.Stages[(int)Backends.SoftmaxStage.Max];
        public LoadedTensor Sum => Softmax.Stages[(int)Backends.SoftmaxStage.Sum];
        public LoadedTensor Exp => Softmax.Stages[(int)Backends.SoftmaxStage.Exp];

        /// <summary>Every node the forward kernel replaces (the mask's leaf only where nothing else reads it: see <see cref="AttentionFusion"/>).</summary>
        public IEnumerable<LoadedTensor> Computed => new[] { Scores, Scaled, Masked }.OfType<LoadedTensor>().Concat(Softmax.Members).Append(Root);
    }

    /// <summary>The backward chain: the incoming gradient dO, every node it replaces, and dQ, dK, dV.</summary>
    public sealed record Backward(LoadedTensor GradOutput, LoadedTensor[] Members, LoadedTensor GradQ, LoadedTensor GradK, LoadedTensor GradV)
    {
        public LoadedTensor Root => new[] { GradQ, GradK, GradV }.MaxBy(n => n.Id)!;
    }

    public static Forward? TryMatchForward(TensorGraph graph, LoadedTensor root)
    {
        if (!IsMatMul(root, transA: false, transB: false)) return null;
        var (y, v) = (graph.Operands(root)[0], graph.Operands(root)[1]);
        if (SoftmaxPattern.TryMatchForward(graph, y) is not { } softmax) return null;
        var x = softmax.Inputs[0];
        LoadedTensor? masked = null, mask = null;
        if (x.Op == OpCode.Add && x.DType == DType.F32 && graph.Operands(x)[1].Op == OpCode.CausalMask)
        {
            (masked, mask) = (x, graph.Operands(x)[1]);
            x = graph.Operands(x)[0];
        }
        if (!LayerNormPattern.Is(graph, x, OpCode.Mul, out var scores, out var scale) || !IsScalarConstant(scale)) return null;
        if (!IsMatMul(scores, transA: false, transB: true)) return null;
        var (q, k) = (graph.Operands(scores)[0], graph.Operands(scores)[1]);
        if (!IsRowMajor(q) || !IsRowMajor(k) || !IsRowMajor(v)) return null;
        // One batch·head slice each: the same leading axes, one width, as many values as keys.
        if (q.Rank != k.Rank || q.Rank != v.Rank) return null;
        for (int i = 0; i < q.Rank - 2; i++)
            if (q.Dim(i) != k.Dim(i) || q.Dim(i) != v.Dim(i)) return null;
        if (q.Dim(^1) != k.Dim(^1) || q.Dim(^1) != v.Dim(^1) || k.Dim(^2) != v.Dim(^2)) return null;
        // The causal mask is square: as many keys as queries.
        if (mask is not null && q.Dim(^2) != k.Dim(^2)) return null;
        return new Forward(scores, x, masked, mask, softmax, root, scale, q, k, v);
    }

    public static Backward? TryMatchBackward(TensorGraph graph, Forward f)
    {
        var y = f.Probabilities;
        if (graph.Readers(y).FirstOrNull(r => IsMatMul(r, transA: true, transB: false) && graph.Operands(r)[0] == y) is not { } gradV) return null;
        var gradOut = graph.Operands(gradV)[1];
        if (!IsRowMajor(gradOut) || !gradOut.SameShape(f.Root)) return null;
        if (graph.Readers(f.V).FirstOrNull(r => IsMatMul(r, transA: false, transB: true) && graph.Operands(r)[0] == gradOut && graph.Operands(r)[1] == f.V) is not { } gradP) return null;
        SoftmaxPattern.Match? softmax = null;
        foreach (var reader in graph.Readers(f.Exp))
            if ((SoftmaxPattern.TryMatchBackward(graph, reader) ?? TryMatchOneKeySoftmaxBackward(graph, reader, f)) is { } m
                && m.Inputs[0] == gradP && m.Inputs[1] == y && m.Inputs[2] == f.Sum)
                softmax = m;
        if (softmax is null) return null;
        // The mask's add passes the gradient through unchanged (SumTo to the same shape); the scale's mul multiplies it.
        if (graph.Readers(softmax.Root).FirstOrNull(r =>
            LayerNormPattern.Is(graph, r, OpCode.Mul, out var a, out var c) && a == softmax.Root && SameScalar(c, f.ScaleConstant)) is not { } gradScaled) return null;
        var readers = graph.Readers(gradScaled);
        if (readers.FirstOrNull(r => IsMatMul(r, transA: false, transB: false) && graph.Operands(r)[0] == gradScaled && graph.Operands(r)[1] == f.K) is not { } gradQ) return null;
        if (readers.FirstOrNull(r => IsMatMul(r, transA: true, transB: false) && graph.Operands(r)[0] == gradScaled && graph.Operands(r)[1] == f.Q) is not { } gradK) return null;
        return new Backward(gradOut, [gradP, gradV, .. softmax.Members, gradScaled, gradQ, gradK], gradQ, gradK, gradV);
    }

    /// <summary>
    /// The softmax gradient over rows of one key (S = 1, e.g. T = 1 causal): the row sum s then has the row's own shape,
    /// so the Div rule's SumTo and the ReduceSum rule's Expand are the identity and the chain
    /// <see cref="SoftmaxPattern"/> matches lacks its row sum and expand: dx = (g / s + −(g · y / s)) · e.
    /// Matched here, where the forward is known to have one key, so no general softmax is mistaken for it.
    /// </summary>
    private static SoftmaxPattern.Match? TryMatchOneKeySoftmaxBackward(TensorGraph graph, LoadedTensor root, Forward f)
    {
        if (f.K.Dim(^2) != 1) return null;
        if (!Is(graph, root, OpCode.Mul, out var combined, out var e) || e != f.Exp) return null;
        if (!Is(graph, combined, OpCode.Add, out var gradOverSum, out var negated)) return null;
        if (!Is(graph, gradOverSum, OpCode.Div, out var g, out var s) || s != f.Sum) return null;
        if (!Is(graph, negated, OpCode.Neg, out var scaled, out _)) return null;
        if (!Is(graph, scaled, OpCode.Div, out var product, out var s2) || s2 != s) return null;
        if (!Is(graph, product, OpCode.Mul, out var g2, out var y) || g2 != g || y != f.Probabilities) return null;
        if (!IsRowMajor(g) || !g.SameShape(e) || !root.SameShape(e)) return null;

        // The stages the general match names, the one-element row sum being the negated term itself.
        var stages = new LoadedTensor[(int)Backends.SoftmaxBackwardStage.Output + 1];
        stages[(int)Backends.SoftmaxBackwardStage.GradOverSum] = gradOverSum;
        stages[(int)Backends.SoftmaxBackwardStage.GradTimesOutput] = product;
        stages[(int)Backends.SoftmaxBackwardStage.ScaledBySum] = scaled;
        stages[(int)Backends.SoftmaxBackwardStage.Negated] = negated;
        stages[(int)Backends.SoftmaxBackwardStage.RowSum] = negated;
        stages[(int)Backends.SoftmaxBackwardStage.Combined] = combined;
        stages[(int)Backends.SoftmaxBackwardStage.Output] = root;
        return new SoftmaxPattern.Match(stages, [gradOverSum, product, scaled, negated, combined, root], [g, y, s, e]);
    }

    private static bool Is(TensorGraph graph, LoadedTensor node, OpCode op, out LoadedTensor a, out LoadedTensor b) => LayerNormPattern.Is(graph, node, op, out a, out b);

    private static bool IsMatMul(LoadedTensor node, bool transA, bool transB) =>
        node.Op == OpCode.MatMul && node.Has(OpFlags.TransposeA) == transA && node.Has(OpFlags.TransposeB) == transB && node.Rank >= 3;

    /// <summary>An f32 tensor of rank ≥ 3 read as it is stored (a broadcast has no rows of its own).</summary>
    private static bool IsRowMajor(LoadedTensor node) => node.DType == DType.F32 && node.Op != OpCode.Expand && node.Rank >= 3;

    private static bool IsScalarConstant(LoadedTensor node) => node.IsScalarConstant;

    private static bool SameScalar(LoadedTensor a, LoadedTensor b) => a == b || (IsScalarConstant(a) && IsScalarConstant(b) && (float)a.Value == (float)b.Value);
}
