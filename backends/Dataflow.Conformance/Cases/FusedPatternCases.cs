using Dataflow.Engine.Backends;
using Dataflow.Graph.Dsl.Layers;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Conformance.Cases;

/// <summary>
/// Chains the fusion system turns into fewer kernels: sigmoid, tanh-GELU, SiLU, softmax, log-softmax
/// cross-entropy, layer norm, RMS norm, a SwiGLU gate, the whole rms_norm and gated_mlp layers with
/// their parameters, and broadcast-load chains with explicit
/// expands. The layers are the DSL's own (graph/Dataflow.Graph/Dsl/Layers), so the counts pinned are
/// those of what real models lower to. Each pins its kernel
/// counts with fusion on and off (forward alone, and with the backward pass), so a fusion
/// regression fails loudly, and is compared against the op-by-op CPU result like any other case.
/// </summary>
internal static class FusedPatternCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        var list = new List<ConformanceCase>();
        list.AddRange(PatternPair("sigmoid[17,65]", new(1, 4), new(5, 15), c => Activations.Sigmoid(c.B, c.Param("x", [17, 65], -6, 6))));
        // Where e^−x overflows (x < −88) the gradient of 1/(1 + e^−x) is ∞·0 = NaN; the composed form must stay finite.
        list.AddRange(PatternPair("sigmoid-extremes[2,17]", new(1, 4), new(5, 15), c => Activations.Sigmoid(c.B, c.Param("x", [2, 17], ExtremeValues))));
        // Where the backend runs tanh-GELU as one kernel: the forward is that kernel (with the bias add before it, if
        // any), its gradient one gelu_backward kernel (one kernel fewer in all than the elementwise fusion makes).
        var gelu = new GeluSpec(3, 130, false, 0.044715f, 0.7978846f, 0.5f, 1f, [GeluStage.Output]);
        list.AddRange(PatternPair("gelu-tanh-extremes[2,17]", new(1, 9) { PatternProbe = gelu, FusedWithPattern = 1 },
            new(8, 31) { PatternProbe = gelu, FusedWithPattern = 7 }, c => Activations.Gelu(c.B, c.Param("x", [2, 17], ExtremeValues))));
        list.AddRange(PatternPair("gelu-tanh[3,130]", new(1, 9) { PatternProbe = gelu, FusedWithPattern = 1 },
            new(8, 31) { PatternProbe = gelu, FusedWithPattern = 7 }, c => Activations.Gelu(c.B, c.Param("x", [3, 130], -4, 4))));
        // gelu(x·W + b) as a linear layer feeds it: bias rows of 24 split across the kernel's chunks of 1024 (2448 elements).
        list.AddRange(PatternPair("gelu-bias[102,13]x[13,24]", new(2, 11) { PatternProbe = gelu, FusedWithPattern = 2 },
            new(12, 36) { PatternProbe = gelu, FusedWithPattern = 11 }, c =>
            Activations.Gelu(c.B, c.B.Add(Linear.Project(c.B, c.Param("x", [102, 13]), c.Param("w", [13, 24], -0.5, 0.5)), c.Param("bias", [24])))));
        // Where the backend runs softmax as one kernel: the forward is that kernel, its gradient one softmax_backward
        // (and the incoming gradient, which the unfused chain computed inside its own kernels, one kernel of its own).
        var softmax = new SoftmaxSpec(17, 65, [SoftmaxStage.Output]);
        list.AddRange(PatternPair("softmax[17,65]", new(4, 5) { PatternProbe = softmax, FusedWithPattern = 1 },
            new(11, 19) { PatternProbe = softmax, FusedWithPattern = 7 }, c => Softmax.Apply(c.B, c.Param("x", [17, 65], -4, 4), -1)));
        // Causal rows (−∞ past the diagonal) under a scale, as attention's scores are, and rows of 3 (shorter than a vector).
        list.AddRange(PatternPair("softmax-causal[4,33,33]", new(6, 8) { PatternProbe = softmax, FusedWithPattern = 3 },
            new(13, 23) { PatternProbe = softmax, FusedWithPattern = 10 }, c =>
            Softmax.Apply(c.B, c.B.Add(c.B.Mul(c.Param("x", [4, 33, 33], -4, 4), c.B.Scalar(0.25)), c.B.CausalMask(Graph.Tensors.Dim.Const(33))), -1)));
        list.AddRange(PatternPair("softmax[40,3]", new(4, 5) { PatternProbe = softmax, FusedWithPattern = 1 },
            new(11, 19) { PatternProbe = softmax, FusedWithPattern = 7 }, c => Softmax.Apply(c.B, c.Param("x", [40, 3], -30, 30), -1)));
        // Attention as the DSL's attention layer lowers it (Attention.Weights): softmax(q·kᵀ·c [+ causal mask])·v over
        // [batch, heads, T, width] slices. Where the backend runs it as one kernel, the forward is that kernel and
        // its gradient one attention_backward (recomputing the probabilities from the row max and Σ); T = 40 is more
        // than one 32-key block, T = 3 less than a vector; the CPU's tiles take queries a vector at a time (8 or 16) against
        // 32-key blocks, so T = 1, T = 33 (one past a key block, a partial query block) and 70 (three key blocks, the
        // last partial) are edges of their own, as are fewer and more keys than queries (cross-attention, no mask).
        var attention = new AttentionSpec(6, 40, 40, 8, 0.25f, Causal: true, WritesRowStatistics: false);
        foreach (var (t, s, causal) in new[] { (40L, 40L, true), (40L, 40L, false), (3L, 3L, true), (33L, 33L, false), (70L, 70L, true), (5L, 37L, false), (37L, 5L, false) })
            list.AddRange(PatternPair($"attention{(causal ? "-causal" : "")}[2,3,{t}{(s != t ? $"x{s}" : "")},8]",
                new(causal ? 8 : 7, causal ? 10 : 8) { PatternProbe = attention, FusedWithPattern = 1 },
                new(causal ? 20 : 19, causal ? 29 : 27) { PatternProbe = attention, FusedWithPattern = 7 }, c => Attention(c, t, s, causal)));
        // T = 1: the gradient of a one-key softmax compiles to two kernels fewer (29 → 27 op by op: its row sum and expand
        // are the identity), and is still one attention_backward where the backend has it.
        list.AddRange(PatternPair("attention-causal[2,3,1,8]",
            new(8, 10) { PatternProbe = attention, FusedWithPattern = 1 },
            new(18, 27) { PatternProbe = attention, FusedWithPattern = 7 }, c => Attention(c, 1, 1, causal: true)));
        list.AddRange(PatternPair("log-softmax[17,65]", new(5, 6), new(12, 18), c => Softmax.Log(c.B, c.Param("x", [17, 65], -4, 4), -1)));
        // Where the backend runs layer_norm as one kernel: the forward is that kernel; with the backward, 7 in all, its
        // gradient (dx, dgamma, dbeta) one layer_norm_backward kernel (the CPU runs both; 17 with the forward kernel alone).
        var layerNorm = new LayerNormSpec(17, 65, 1f / 65, 1f / 65, 1e-5f, [LayerNormStage.Output]);
        list.AddRange(PatternPair("layer-norm[17,65]",
            new(6, 11) { PatternProbe = layerNorm, FusedWithPattern = 1 }, new(21, 39) { PatternProbe = layerNorm, FusedWithPattern = 7 }, c =>
            LayerNorm.Normalize(c.B, c.Param("x", [17, 65], -2, 3), c.Param("gamma", [65], 0.5, 1.5), c.Param("beta", [65]))));
        // Rows long enough that the row sums take several TensorPrimitives blocks (as the reduce kernel forms them).
        list.AddRange(PatternPair("layer-norm[3,5000]",
            new(6, 11) { PatternProbe = layerNorm, FusedWithPattern = 1 }, new(21, 39) { PatternProbe = layerNorm, FusedWithPattern = 7 }, c =>
            LayerNorm.Normalize(c.B, c.Param("x", [3, 5000], -2, 3), c.Param("gamma", [5000], 0.5, 1.5), c.Param("beta", [5000]))));
        // x + layernorm(x), as a residual block has it: x's gradient also comes along the residual path (dx = (g + dc) + dm).
        list.AddRange(PatternPair("layer-norm-residual[70,20]",
            new(6, 12) { PatternProbe = layerNorm, FusedWithPattern = 2 }, new(21, 41) { PatternProbe = layerNorm, FusedWithPattern = 7 }, c =>
            {
                var x = c.Param("x", [70, 20], -2, 3);
                return c.B.Add(x, LayerNorm.Normalize(c.B, x, c.Param("gamma", [20], 0.5, 1.5), c.Param("beta", [20])));
            }));
        list.AddRange(PatternPair("rms-norm[17,65]", new(4, 7), new(14, 29), c =>
            LayerNorm.RmsNormalize(c.B, c.Param("x", [17, 65], -2, 3), c.Param("gamma", [65], 0.5, 1.5))));
        list.AddRange(PatternPair("silu[17,65]", new(1, 1), new(5, 16), c => Activations.Silu(c.B, c.Param("x", [17, 65], -6, 6))));
        list.AddRange(PatternPair("silu-extremes[2,17]", new(1, 1), new(5, 16), c => Activations.Silu(c.B, c.Param("x", [2, 17], ExtremeValues))));
        // SwiGLU's gate as gated_mlp forms it: silu(x·Wg) · (x·Wu), the elementwise product of two projections of the same rows.
        list.AddRange(PatternPair("swiglu-gate[9,13]x[13,24]", new(3, 4), new(12, 26), c =>
        {
            var x = c.Param("x", [9, 13]);
            var gate = Linear.Project(c.B, x, c.Param("wg", [13, 24], -0.5, 0.5));
            var up = Linear.Project(c.B, x, c.Param("wu", [13, 24], -0.5, 0.5));
            return Mlp.Gate(c.B, "silu", gate, up);
        }));
        // The whole layers as a model file lowers them (LayerNorm.ApplyRms, Mlp.Gated), with the parameters they make
        // themselves: rms_norm's gain, gated_mlp's gate, up and down projections of rank-3 activations [B, T, d]. The
        // norm makes the kernels the rms-norm pattern does; gated_mlp forward is three matmuls and silu(gate)·up fused
        // between them (one kernel fewer than op by op).
        list.AddRange(PatternPair("rms_norm-layer[3,7,65]", new(4, 7), new(14, 29), c =>
            Layer(c, c.Param("x", [3, 7, 65], -2, 3), "norm", 0.5, 1.5, x => LayerNorm.ApplyRms(c.Layers, x, 1e-5))));
        list.AddRange(PatternPair("gated_mlp-layer[3,7,13]x24", new(4, 5), new(18, 29), c =>
            Layer(c, c.Param("x", [3, 7, 13]), "mlp", -0.5, 0.5, x => Mlp.Gated(c.Layers, x, Dim.Const(24), "silu", ParamInit.Xavier))));
        list.AddRange(PatternPair("broadcast-chain[17,65]", new(1, 6), new(10, 21), c =>
        {
            var b = c.B;
            var x = c.Param("x", [17, 65]);
            var scale = b.Expand(c.Param("scale", [1, 65]), Shape.Of(17, 65));
            var shift = b.Expand(c.Param("shift", [17, 1]), Shape.Of(17, 65));
            return b.Tanh(b.Add(b.Mul(x, scale), b.Sub(shift, c.Param("bias", [65]))));
        }));

        // The loss is the pattern itself here, so it has cases of their own rather than Σ y·R. Where the backend runs
        // cross_entropy as one kernel: the forward is that kernel and the mean's, the gradient one cross_entropy_backward.
        var crossEntropy = new CrossEntropySpec(17, 10, false, [CrossEntropyStage.Output]);
        list.AddRange(CrossEntropyPair("cross-entropy[17,10]", new(8, 10) { PatternProbe = crossEntropy, FusedWithPattern = 2 },
            new(13, 19) { PatternProbe = crossEntropy, FusedWithPattern = 4 }, c =>
            Losses.CrossEntropy(c.B, c.Param("logits", [17, 10], -3, 3), c.Indices("targets", [17], 0, 10), smoothing: 0)));
        // Padding (id 0) masked out: the sum is per target, the gradient one value per row.
        list.AddRange(CrossEntropyPair("cross-entropy-ignore[3,7,10]", new(11, 18) { PatternProbe = crossEntropy, FusedWithPattern = 5 },
            new(17, 30) { PatternProbe = crossEntropy, FusedWithPattern = 8 }, c =>
            Losses.CrossEntropy(c.B, c.Param("logits", [3, 7, 10], -3, 3), c.Indices("targets", [3, 7], 0, 4), smoothing: 0, ignore: 0)));
        // Rows longer than one TensorPrimitives block of the row sums, and an out-of-range target (a zero one-hot row).
        list.AddRange(CrossEntropyPair("cross-entropy[3,5000]", new(8, 10) { PatternProbe = crossEntropy, FusedWithPattern = 2 },
            new(13, 19) { PatternProbe = crossEntropy, FusedWithPattern = 4 }, c =>
            Losses.CrossEntropy(c.B, c.Param("logits", [3, 5000], -3, 3), c.Indices("targets", [3], [4999, 5000, 17]), smoothing: 0)));
        return list;
    }

    /// <summary>A DSL layer applied to <paramref name="x"/> in its own scope, its parameters then drawn uniformly from [low, high).</summary>
    private static Node Layer(CaseBuilder c, Node x, string scope, double low, double high, Func<Node, Node> lower)
    {
        Node y;
        using (c.B.Scope(scope)) y = lower(x);
        c.DrawLayerParameters(scope, low, high);
        return y;
    }

    /// <summary>t queries over s keys (s = t where causal: the mask is square), weighted as the attention layer weighs them.</summary>
    private static Node Attention(CaseBuilder c, long t, long s, bool causal)
    {
        var b = c.B;
        var (q, k, v) = (c.Param("q", [2, 3, t, 8], -2, 2), c.Param("k", [2, 3, s, 8], -2, 2), c.Param("v", [2, 3, s, 8]));
        return b.MatMul(Graph.Dsl.Layers.Attention.Weights(b, q, k, 0.25, causal ? Dim.Const(t) : null), v);
    }

    /// <summary>Inputs up to |x| = 1e4, around float's exp overflow (±88.7) and where tanh saturates.</summary>
    private static readonly float[] ExtremeValues =
    [
        -1e4f, -1e3f, -200f, -100f, -89f, -88.5f, -88f, -50f, -20f, -9.5f, -3f, -1f, -0.25f, 0f, 0.25f, 1f, 3f,
        9.5f, 20f, 50f, 88f, 88.5f, 89f, 100f, 200f, 1e3f, 1e4f, -7e3f, 7e3f, -0.01f, 0.01f, -1e-4f, 1e-4f, 5f,
    ];

    /// <summary>A loss forward only (fetched), and as the graph's loss so its backward runs too.</summary>
    private static IEnumerable<ConformanceCase> CrossEntropyPair(string name, KernelCounts forward, KernelCounts backward, Func<CaseBuilder, Node> build) =>
    [
        new($"fused/{name}", ConformanceCase.FusedGroup, c => c.Output(build(c), "ce")) { Kernels = forward },
        new($"fused/{name}+backward", ConformanceCase.FusedGroup, c => c.Graph.Loss = build(c)) { Kernels = backward },
    ];

    /// <summary>The pattern forward only (its output fetched), and with Σ y·R as loss so its backward chain runs too.</summary>
    private static IEnumerable<ConformanceCase> PatternPair(string name, KernelCounts? forward, KernelCounts? backward, Func<CaseBuilder, Node> build) =>
    [
        new($"fused/{name}", ConformanceCase.FusedGroup, c => c.Output(build(c))) { Kernels = forward },
        new($"fused/{name}+backward", ConformanceCase.FusedGroup, c => c.OutputWithLoss(build(c))) { Kernels = backward },
    ];
}
