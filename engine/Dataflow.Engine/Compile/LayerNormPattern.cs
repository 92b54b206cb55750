using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Recognises the primitives that <c>layernorm</c> lowers to (graph/Dataflow.Graph/Dsl/Layers/LayerNorm.cs),
/// matched from the final bias add upwards, through the operands the world records (<see cref="TensorGraph.Operands"/>):
/// <code>
/// mean = reduce_sum(x, last, keep) · (1/d);   centered = x − mean
/// var  = reduce_sum(centered · centered, last, keep) · (1/d)
/// y    = centered / √(var + ε) · gain + bias
/// </code>
/// Anything else (another operand order, a reduction over another axis, a broadcast gain) is left
/// to the elementwise fusion, which still computes it correctly, only in more kernels.
/// </summary>
internal static class LayerNormPattern
{
    /// <summary>A match: the node of every <see cref="LayerNormStage"/> (indexed by it), the constants' nodes, and the three inputs.</summary>
    public sealed record Match(LoadedTensor[] Stages, LoadedTensor[] Constants, LoadedTensor X, LoadedTensor Gain, LoadedTensor Bias)
    {
        public LoadedTensor Root => Stages[(int)LayerNormStage.Output];

        public IEnumerable<LoadedTensor> Members => Stages;
    }

    public static Match? TryMatch(TensorGraph graph, LoadedTensor root)
    {
        if (!Is(graph, root, OpCode.Add, out var scaled, out var bias)) return null;
        if (!Is(graph, scaled, OpCode.Mul, out var normalized, out var gain)) return null;
        if (!Is(graph, normalized, OpCode.Div, out var centered, out var deviation)) return null;
        if (!Is(graph, deviation, OpCode.Sqrt, out var shifted, out _)) return null;
        if (!Is(graph, shifted, OpCode.Add, out var variance, out var epsilon) || !IsScalarConstant(epsilon)) return null;
        if (!Is(graph, variance, OpCode.Mul, out var varianceSum, out var varianceScale) || !IsScalarConstant(varianceScale)) return null;
        if (!IsLastAxisSum(graph, varianceSum, out var squared)) return null;
        if (!Is(graph, squared, OpCode.Mul, out var c1, out var c2) || c1 != centered || c2 != centered) return null;
        if (!Is(graph, centered, OpCode.Sub, out var x, out var mean)) return null;
        if (!Is(graph, mean, OpCode.Mul, out var meanSum, out var meanScale) || !IsScalarConstant(meanScale)) return null;
        if (!IsLastAxisSum(graph, meanSum, out var summed) || summed != x) return null;

        int width = x.Rank - 1;
        if (width < 0 || x.Op == OpCode.Expand || x.DType != Graph.Tensors.DType.F32) return null;
        // Gain and bias are vectors over the last axis, read as they are stored.
        foreach (var vector in new[] { gain, bias })
            if (vector.Op == OpCode.Expand || vector.Rank != 1 || vector.Dim(0) != x.Dim(width) || vector.DType != x.DType)
                return null;
        if (!root.SameShape(x)) return null;

        var stages = new LoadedTensor[(int)LayerNormStage.Output + 1];
        stages[(int)LayerNormStage.MeanSum] = meanSum;
        stages[(int)LayerNormStage.Mean] = mean;
        stages[(int)LayerNormStage.Centered] = centered;
        stages[(int)LayerNormStage.Squared] = squared;
        stages[(int)LayerNormStage.VarianceSum] = varianceSum;
        stages[(int)LayerNormStage.Variance] = variance;
        stages[(int)LayerNormStage.VariancePlusEpsilon] = shifted;
        stages[(int)LayerNormStage.StandardDeviation] = deviation;
        stages[(int)LayerNormStage.Normalized] = normalized;
        stages[(int)LayerNormStage.Scaled] = scaled;
        stages[(int)LayerNormStage.Output] = root;
        return new Match(stages, [meanScale, varianceScale, epsilon], x, gain, bias);
    }

    /// <summary>
    /// A backward match: every node the kernel computes (the root, dx, last), the inputs g, gain, c, σ, x̂ and
    /// the incoming gradient where there is one, the row sums over rows it forms (dgain's, dbias's) and the constants.
    /// </summary>
    public sealed record BackwardMatch(LoadedTensor[] Members, LoadedTensor[] Inputs, LoadedTensor? GainGrad, LoadedTensor? BiasGrad,
        float MeanScale, float VarianceScale, float Two)
    {
        public LoadedTensor Root => Members[^1];
    }

    /// <summary>
    /// The catalog's gradient of the chain above (<see cref="LayerNormBackwardSpec"/>), matched from dx upwards:
    /// dx = (incoming + dc) + expand(dm) or dc + expand(dm). The kernel computes these very nodes from their
    /// inputs, so nothing here needs c, σ and x̂ to be the forward's; gain's and bias's sums over rows join
    /// when g has them.
    /// </summary>
    public static BackwardMatch? TryMatchBackward(TensorGraph graph, LoadedTensor root)
    {
        if (!Is(graph, root, OpCode.Add, out var sum, out var meanSpread)) return null;
        if (!Is(graph, meanSpread, OpCode.Expand, out var meanGrad, out _)) return null;
        if (!Is(graph, meanGrad, OpCode.Mul, out var meanGradSum, out var meanScale) || !meanScale.IsScalarConstant) return null;
        if (!IsLastAxisSum(graph, meanGradSum, out var negated)) return null;
        if (!Is(graph, negated, OpCode.Neg, out var dc, out _)) return null;
        LoadedTensor? incoming = null;
        if (sum != dc)
        {
            if (!Is(graph, sum, OpCode.Add, out var prior, out var dc2) || dc2 != dc) return null;
            incoming = prior;
        }
        if (!Is(graph, dc, OpCode.Add, out var firstSum, out var squareTerm2)) return null;
        if (!Is(graph, firstSum, OpCode.Add, out var direct, out var squareTerm)) return null;
        if (!Is(graph, squareTerm, OpCode.Mul, out var varianceSpread, out var centered)) return null;
        if (!Is(graph, squareTerm2, OpCode.Mul, out var varianceSpread2, out var centered2) || varianceSpread2 != varianceSpread || centered2 != centered) return null;
        if (!Is(graph, varianceSpread, OpCode.Expand, out var varianceGrad, out _)) return null;
        if (!Is(graph, varianceGrad, OpCode.Mul, out var shiftedGrad, out var varianceScale) || !varianceScale.IsScalarConstant) return null;
        if (!Is(graph, shiftedGrad, OpCode.Div, out var deviationGrad, out var twiceDeviation)) return null;
        if (!Is(graph, twiceDeviation, OpCode.Mul, out var deviation, out var two) || !two.IsScalarConstant) return null;
        if (!IsLastAxisSum(graph, deviationGrad, out var negatedQuotient)) return null;
        if (!Is(graph, negatedQuotient, OpCode.Neg, out var quotient, out _)) return null;
        if (!Is(graph, quotient, OpCode.Div, out var product, out var deviation2) || deviation2 != deviation) return null;
        if (!Is(graph, product, OpCode.Mul, out var scaledGrad, out var normalized)) return null;
        if (!Is(graph, direct, OpCode.Div, out var scaledGrad2, out var deviation3) || scaledGrad2 != scaledGrad || deviation3 != deviation) return null;
        if (!Is(graph, scaledGrad, OpCode.Mul, out var g, out var gain)) return null;

        // Rows as stored: g, c, x̂ (and the incoming gradient) like dx, σ one value per row, gain one per column.
        if (root.Rank < 1 || root.Op == OpCode.Expand) return null;
        foreach (var rows in incoming is { } i ? new[] { g, centered, normalized, i } : [g, centered, normalized])
            if (!IsStored(rows) || !rows.SameShape(root)) return null;
        if (!IsStored(gain) || gain.Rank != 1 || gain.Dim(0) != root.Dim(^1)) return null;
        if (!IsStored(deviation) || deviation.Rank != root.Rank || deviation.Dim(^1) != 1) return null;
        for (int axis = 0; axis < root.Rank - 1; axis++)
            if (deviation.Dim(axis) != root.Dim(axis)) return null;
        if (!meanGradSum.SameShape(deviation) || !deviationGrad.SameShape(deviation)) return null;
        if (!meanSpread.SameShape(root) || !varianceSpread.SameShape(root) || !dc.SameShape(root)) return null;

        List<LoadedTensor> members = [scaledGrad, product, quotient, negatedQuotient, deviationGrad, twiceDeviation, shiftedGrad, varianceGrad,
            varianceSpread, squareTerm, squareTerm2, direct, firstSum, dc, negated, meanGradSum, meanGrad, meanSpread];
        if (incoming is not null) members.Add(sum);
        // Σrows g·x̂ and Σrows g, the gain's and the bias's gradients, where g has them.
        var gainProduct = graph.Readers(g).FirstOrNull(r => Is(graph, r, OpCode.Mul, out var a, out var b) && a == g && b == normalized
            && graph.Readers(r) is [var only] && IsRowsSum(only, root));
        LoadedTensor? gainGrad = null, biasGrad = graph.Readers(g).FirstOrNull(r => IsRowsSum(r, root));
        if (gainProduct is { } p)
        {
            gainGrad = graph.Readers(p)[0];
            members.Add(p);
            members.Add(gainGrad.Value);
        }
        if (biasGrad is { } bias) members.Add(bias);
        members.Add(root);
        var inputs = new List<LoadedTensor> { g, gain, centered, deviation, normalized };
        if (incoming is { } prior2) inputs.Add(prior2);
        return new BackwardMatch([.. members.Distinct()], [.. inputs], gainGrad, biasGrad,
            (float)meanScale.Value, (float)varianceScale.Value, (float)two.Value);
    }

    /// <summary>A sum over every axis but the last, kept: [.., d] to [1, .., 1, d] (a gain's or bias's gradient).</summary>
    private static bool IsRowsSum(LoadedTensor node, LoadedTensor rows) =>
        node.Op == OpCode.ReduceSum && node.DType == Graph.Tensors.DType.F32 && node.Has(OpFlags.KeepDims)
        && rows.Rank >= 2 && node.Axes == (1u << (rows.Rank - 1)) - 1;

    /// <summary>An f32 tensor read as it is stored (a broadcast has no elements of its own).</summary>
    private static bool IsStored(LoadedTensor node) => node.DType == Graph.Tensors.DType.F32 && node.Op != OpCode.Expand;

    /// <summary>An f32 <paramref name="op"/> node and its operands (shared with <see cref="SoftmaxPattern"/>).</summary>
    internal static bool Is(TensorGraph graph, LoadedTensor node, OpCode op, out LoadedTensor a, out LoadedTensor b)
    {
        bool ok = node.Op == op && node.DType == Graph.Tensors.DType.F32;
        var operands = graph.Operands(node);
        a = ok ? operands[0] : node;
        b = ok && operands.Count > 1 ? operands[1] : node;
        return ok;
    }

    private static bool IsScalarConstant(LoadedTensor node) => node.IsScalarConstant;

    internal static bool IsLastAxisSum(TensorGraph graph, LoadedTensor node, out LoadedTensor input)
    {
        input = node.Op == OpCode.ReduceSum ? graph.Operands(node)[0] : node;
        if (node.Op != OpCode.ReduceSum || !node.Has(OpFlags.KeepDims)) return false;
        int last = input.Rank - 1;
        return last >= 0 && node.Axes == 1u << last;
    }
}
