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
