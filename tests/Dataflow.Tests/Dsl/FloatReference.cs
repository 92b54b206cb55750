using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Dsl;

/// <summary>
/// The lowering tests' float view of the one reference evaluator, <see cref="Graph.Evaluation.ReferenceEvaluator"/>, so they can check the
/// numbers layers compute (not just their shapes) without depending on a backend: feeds and results
/// as floats, parameters from their init unless given. Dropout is not supported: evaluate graphs
/// built with Training = false.
/// </summary>
internal sealed class FloatReference
{
    public sealed record Tensor(long[] Shape, float[] Data)
    {
        public float this[params long[] index] => Data[Flat(index, Shape)];
    }

    private readonly Graph.Evaluation.ReferenceEvaluator _evaluator;

    public FloatReference(IReadOnlyDictionary<string, long> dims, IReadOnlyDictionary<string, float[]> feeds)
    {
        _evaluator = new Graph.Evaluation.ReferenceEvaluator(dims, (node, shape) => node.Op switch
        {
            OpCode.Input => Widen(feeds[node.Attrs.Name!]),
            OpCode.Parameter => Widen(ParameterValue(node, shape.Aggregate(1L, (a, b) => a * b))),
            _ => throw new NotSupportedException("reference evaluator: build the graph with Training = false (no dropout)"),
        });
    }

    /// <summary>Values for parameters by name; parameters not given here get their init (zeros, ones) or a seeded normal.</summary>
    public Dictionary<string, float[]> Parameters { get; } = [];

    /// <summary>The node's value from the shared double-precision evaluator, rounded to float as a backend would hold it.</summary>
    public Tensor Run(Node node)
    {
        var (data, shape) = _evaluator.Evaluate(node);
        return new Tensor(shape, data.Select(v => (float)v).ToArray());
    }

    private float[] ParameterValue(Node node, long n)
    {
        if (Parameters.TryGetValue(node.Attrs.Name!, out var given)) return given;
        var init = node.Attrs.Init!;
        if (init.Kind == ParamInitKind.Zeros) return new float[n];
        if (init.Kind == ParamInitKind.Ones) return Enumerable.Repeat(1f, (int)n).ToArray();
        var random = new Random(node.Attrs.Name!.Aggregate(17, (h, c) => h * 31 + c));
        return Enumerable.Range(0, (int)n).Select(_ => (float)(random.NextDouble() * 2 - 1) * 0.5f).ToArray();
    }

    private static double[] Widen(float[] values) => values.Select(v => (double)v).ToArray();

    private static long Flat(long[] index, long[] shape)
    {
        long flat = 0;
        for (int k = 0; k < shape.Length; k++) flat = flat * shape[k] + index[k];
        return flat;
    }
}
