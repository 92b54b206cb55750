using Dataflow.Graph.Ir;
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
/// (the softmax and its gradient as <see cref="SoftmaxPattern"/> matches them). Anything else (dropout on
/// the weights, another mask, broadcast operands) is left to the softmax and elementwise fusions.
/// </summary>
internal static class AttentionPattern
{
    /// <summary>The forward chain: its nodes, the softmax inside it, the scale constant, and q, k, v.</summary>
    public sealed record Forward(Node Scores, Node Scaled, Node? Masked, Node? Mask, SoftmaxPattern.Match Softmax, Node Root, Node ScaleConstant, Node Q, Node K, Node V)
    {
        public Node Probabilities => Softmax.Root;
        public Node Max => Softmax.Stages[(int)Backends.SoftmaxStage.Max];
        public Node Sum => Softmax.Stages[(int)Backends.SoftmaxStage.Sum];
        public Node Exp => Softmax.Stages[(int)Backends.SoftmaxStage.Exp];

        /// <summary>Every node the forward kernel replaces (the mask's leaf only where nothing else reads it: see <see cref="AttentionFusion"/>).</summary>
        public IEnumerable<Node> Computed => new[] { Scores, Scaled, Masked }.OfType<Node>().Concat(Softmax.Members).Append(Root);
    }

    /// <summary>The backward chain: the incoming gradient dO, every node it replaces, and dQ, dK, dV.</summary>
    public sealed record Backward(Node GradOutput, Node[] Members, Node GradQ, Node GradK, Node GradV)
    {
        public Node Root => new[] { GradQ, GradK, GradV }.MaxBy(n => n.Id)!;
    }

    public static Forward? TryMatchForward(TensorGraph graph, Node root)
    {
        if (!IsMatMul(root, transA: false, transB: false)) return null;
        var (y, v) = (graph.Operands(root)[0], graph.Operands(root)[1]);
        if (SoftmaxPattern.TryMatchForward(graph, y) is not { } softmax) return null;
        var x = softmax.Inputs[0];
        Node? masked = null, mask = null;
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
        var (qs, ks, vs) = (q.Shape, k.Shape, v.Shape);
        if (qs.Rank != ks.Rank || qs.Rank != vs.Rank) return null;
        for (int i = 0; i < qs.Rank - 2; i++)
            if (!qs[i].Equals(ks[i]) || !qs[i].Equals(vs[i])) return null;
        if (!qs[^1].Equals(ks[^1]) || !qs[^1].Equals(vs[^1]) || !ks[^2].Equals(vs[^2])) return null;
        // The causal mask is square: as many keys as queries.
        if (mask is not null && !qs[^2].Equals(ks[^2])) return null;
        return new Forward(scores, x, masked, mask, softmax, root, scale, q, k, v);
    }

    public static Backward? TryMatchBackward(TensorGraph graph, Forward f)
    {
        var y = f.Probabilities;
        var gradV = graph.Readers(y).FirstOrDefault(r => IsMatMul(r, transA: true, transB: false) && graph.Operands(r)[0] == y);
        if (gradV is null) return null;
        var gradOut = graph.Operands(gradV)[1];
        if (!IsRowMajor(gradOut) || !gradOut.Shape.Equals(f.Root.Shape)) return null;
        var gradP = graph.Readers(f.V).FirstOrDefault(r => IsMatMul(r, transA: false, transB: true) && graph.Operands(r)[0] == gradOut && graph.Operands(r)[1] == f.V);
        if (gradP is null) return null;
        SoftmaxPattern.Match? softmax = null;
        foreach (var reader in graph.Readers(f.Exp))
            if (SoftmaxPattern.TryMatchBackward(graph, reader) is { } m && m.Inputs[0] == gradP && m.Inputs[1] == y && m.Inputs[2] == f.Sum)
                softmax = m;
        if (softmax is null) return null;
        // The mask's add passes the gradient through unchanged (SumTo to the same shape); the scale's mul multiplies it.
        var gradScaled = graph.Readers(softmax.Root).FirstOrDefault(r =>
            LayerNormPattern.Is(graph, r, OpCode.Mul, out var a, out var c) && a == softmax.Root && SameScalar(c, f.ScaleConstant));
        if (gradScaled is null) return null;
        var readers = graph.Readers(gradScaled);
        var gradQ = readers.FirstOrDefault(r => IsMatMul(r, transA: false, transB: false) && graph.Operands(r)[0] == gradScaled && graph.Operands(r)[1] == f.K);
        var gradK = readers.FirstOrDefault(r => IsMatMul(r, transA: true, transB: false) && graph.Operands(r)[0] == gradScaled && graph.Operands(r)[1] == f.Q);
        if (gradQ is null || gradK is null) return null;
        return new Backward(gradOut, [gradP, gradV, .. softmax.Members, gradScaled, gradQ, gradK], gradQ, gradK, gradV);
    }

    private static bool IsMatMul(Node node, bool transA, bool transB) =>
        node.Op == OpCode.MatMul && node.Attrs.TransposeA == transA && node.Attrs.TransposeB == transB && node.Shape.Rank >= 3;

    /// <summary>An f32 tensor of rank ≥ 3 read as it is stored (a broadcast has no rows of its own).</summary>
    private static bool IsRowMajor(Node node) => node.DType == DType.F32 && node.Op != OpCode.Expand && node.Shape.Rank >= 3;

    private static bool IsScalarConstant(Node node) =>
        node.Op == OpCode.Constant && node.Attrs.Data is null && node.Attrs.Count is null && node.Shape.Rank == 0;

    private static bool SameScalar(Node a, Node b) => a == b || (IsScalarConstant(a) && IsScalarConstant(b) && (float)a.Attrs.Value == (float)b.Attrs.Value);
}
