using Dataflow.Engine.Backends;
using Dataflow.Graph.Evaluation;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Contracts;

/// <summary>
/// A kernel's op evaluated by the graph's one reference, <see cref="ReferenceEvaluator"/> (double
/// precision, straight loops), on the kernel's own inputs: the contracts' independent reference for
/// matmul and the index ops, without a second copy of their semantics here.
/// </summary>
internal static class GraphReference
{
    /// <summary>
    /// <paramref name="spec"/>'s op over <paramref name="inputs"/> (float[] or int[], as the kernel gets
    /// them), row-major, integers as doubles; <paramref name="bindings"/> for symbolic counts.
    /// </summary>
    public static double[] Evaluate(OpKernelSpec spec, object[] inputs, IReadOnlyDictionary<string, long>? bindings = null)
    {
        var builder = new GraphBuilder(new ComputeGraph("contract reference"));
        var operands = spec.Inputs.Select((d, i) => builder.Input($"in{i}", new TensorType(d.DType, Shape.Of(d.Shape)))).ToArray();
        var node = builder.Apply(spec.Op, spec.Attrs, operands);
        var evaluator = new ReferenceEvaluator(bindings ?? new Dictionary<string, long>(), (leaf, _) =>
            inputs[int.Parse(leaf.Attrs.Name!.AsSpan(2))] switch
            {
                float[] f => f.Select(v => (double)v).ToArray(),
                int[] n => n.Select(v => (double)v).ToArray(),
                _ => throw new ArgumentException("inputs are float[] or int[]"),
            });
        return evaluator.Evaluate(node).Data;
    }

    /// <summary>The reference rounded once to float, as a perfect float kernel would return it.</summary>
    public static float[] Floats(OpKernelSpec spec, object[] inputs, IReadOnlyDictionary<string, long>? bindings = null) =>
        Evaluate(spec, inputs, bindings).Select(v => (float)v).ToArray();

    /// <summary>An i32 result's reference as the bits a backend stores (each value an exact integer).</summary>
    public static int[] Ints(OpKernelSpec spec, object[] inputs, IReadOnlyDictionary<string, long>? bindings = null) =>
        Evaluate(spec, inputs, bindings).Select(v => checked((int)v)).ToArray();
}
