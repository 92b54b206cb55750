using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Dsl;

/// <summary>
/// A slow, obviously-correct forward interpreter of graph nodes, so the lowering tests can check the
/// numbers layers compute (not just their shapes) without depending on a backend. Integers are held
/// as floats. Dropout is not supported: evaluate graphs built with Training = false.
/// </summary>
internal sealed class ReferenceEvaluator(IReadOnlyDictionary<string, long> dims, IReadOnlyDictionary<string, float[]> feeds)
{
    public sealed record Tensor(long[] Shape, float[] Data)
    {
        public float this[params long[] index] => Data[Flat(index, Shape)];
    }

    private readonly Dictionary<Node, Tensor> _values = [];

    /// <summary>Values for parameters by name; parameters not given here get their init (zeros, ones) or a seeded normal.</summary>
    public Dictionary<string, float[]> Parameters { get; } = [];

    public Tensor Run(Node node)
    {
        if (_values.TryGetValue(node, out var done)) return done;
        var inputs = node.Inputs.Select(Run).ToArray();
        var shape = node.Shape.Evaluate(dims);
        var result = new Tensor(shape, Compute(node, inputs, shape));
        _values[node] = result;
        return result;
    }

    private float[] Compute(Node node, Tensor[] x, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var a = node.Attrs;
        switch (node.Op)
        {
            case OpCode.Input: return feeds[a.Name!];
            case OpCode.Parameter: return ParameterValue(node, n);
            case OpCode.Constant:
                if (a.Data is not null) return a.Data;
                return [a.Count is not null ? a.Count.Evaluate(dims) : (float)a.Value];
            case OpCode.Iota: return Enumerable.Range(0, (int)n).Select(i => (float)i).ToArray();
            case OpCode.CausalMask:
                return Enumerable.Range(0, (int)n).Select(i => i % shape[1] > i / shape[1] ? float.NegativeInfinity : 0f).ToArray();
            case OpCode.Neg: return Map(x[0], v => -v);
            case OpCode.Exp: return Map(x[0], MathF.Exp);
            case OpCode.Log: return Map(x[0], MathF.Log);
            case OpCode.Sqrt: return Map(x[0], MathF.Sqrt);
            case OpCode.Recip: return Map(x[0], v => 1 / v);
            case OpCode.Tanh: return Map(x[0], MathF.Tanh);
            case OpCode.Sin: return Map(x[0], MathF.Sin);
            case OpCode.Cast: return a.DType == DType.I32 ? Map(x[0], MathF.Truncate) : Map(x[0], v => v);
            case OpCode.Detach: return Map(x[0], v => v);
            case OpCode.Add: return Zip(x, shape, (p, q) => p + q);
            case OpCode.Sub: return Zip(x, shape, (p, q) => p - q);
            case OpCode.Mul: return Zip(x, shape, (p, q) => p * q);
            case OpCode.Div: return Zip(x, shape, (p, q) => p / q);
            case OpCode.Max: return Zip(x, shape, MathF.Max);
            case OpCode.Greater: return Zip(x, shape, (p, q) => p > q ? 1 : 0);
            case OpCode.Equal: return Zip(x, shape, (p, q) => p == q ? 1 : 0);
            case OpCode.ReduceSum: return Reduce(x[0], a, n, 0, (acc, v) => acc + v);
            case OpCode.ReduceMax: return Reduce(x[0], a, n, float.NegativeInfinity, MathF.Max);
            case OpCode.Reshape: return x[0].Data;
            case OpCode.Expand: return Zip([x[0], x[0]], shape, (p, _) => p);
            case OpCode.Permute:
            {
                var result = new float[n];
                for (long i = 0; i < n; i++)
                {
                    var index = Unflat(i, shape);
                    var source = new long[index.Length];
                    for (int k = 0; k < index.Length; k++) source[a.Perm[k]] = index[k];
                    result[i] = x[0].Data[Flat(source, x[0].Shape)];
                }
                return result;
            }
            case OpCode.MatMul: return MatMul(x[0], x[1], a.TransposeA, a.TransposeB, shape, n);
            case OpCode.Gather:
            {
                long width = x[0].Shape.Skip(1).Aggregate(1L, (p, q) => p * q);
                var result = new float[n];
                for (long i = 0; i < x[1].Data.Length; i++)
                    Array.Copy(x[0].Data, (long)x[1].Data[i] * width, result, i * width, width);
                return result;
            }
            case OpCode.OneHot:
            {
                long depth = shape[^1];
                var result = new float[n];
                for (long i = 0; i < x[0].Data.Length; i++) result[i * depth + (long)x[0].Data[i]] = 1;
                return result;
            }
            default: throw new NotSupportedException($"reference evaluator: {node.Op}");
        }
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

    private static float[] Map(Tensor t, Func<float, float> f) => t.Data.Select(f).ToArray();

    /// <summary>NumPy broadcasting of two operands onto the result shape.</summary>
    private static float[] Zip(Tensor[] x, long[] shape, Func<float, float, float> f)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var result = new float[n];
        for (long i = 0; i < n; i++)
        {
            var index = Unflat(i, shape);
            result[i] = f(x[0].Data[Broadcast(index, x[0].Shape)], x[1].Data[Broadcast(index, x[1].Shape)]);
        }
        return result;
    }

    private static long Broadcast(long[] index, long[] shape)
    {
        var local = new long[shape.Length];
        for (int k = 0; k < shape.Length; k++)
            local[k] = shape[k] == 1 ? 0 : index[index.Length - shape.Length + k];
        return Flat(local, shape);
    }

    private static float[] Reduce(Tensor t, OpAttrs a, long n, float seed, Func<float, float, float> f)
    {
        var result = Enumerable.Repeat(seed, (int)n).ToArray();
        var kept = t.Shape.Select((d, k) => a.Axes.Contains(k) ? 1L : d).ToArray();
        for (long i = 0; i < t.Data.Length; i++)
        {
            var index = Unflat(i, t.Shape);
            for (int k = 0; k < index.Length; k++) if (a.Axes.Contains(k)) index[k] = 0;
            var o = Flat(index, kept);
            result[o] = f(result[o], t.Data[i]);
        }
        return result;
    }

    private static float[] MatMul(Tensor x, Tensor y, bool ta, bool tb, long[] shape, long n)
    {
        var result = new float[n];
        long k = ta ? x.Shape[^2] : x.Shape[^1];
        for (long i = 0; i < n; i++)
        {
            var index = Unflat(i, shape);
            var (row, col) = (index[^2], index[^1]);
            var batch = index[..^2];
            double sum = 0;
            for (long j = 0; j < k; j++)
            {
                var xi = batch.Concat(ta ? [j, row] : new[] { row, j }).ToArray();
                var yi = batch.Concat(tb ? [col, j] : new[] { j, col }).ToArray();
                sum += x.Data[Broadcast(xi, x.Shape)] * y.Data[Broadcast(yi, y.Shape)];
            }
            result[i] = (float)sum;
        }
        return result;
    }

    private static long[] Unflat(long i, long[] shape)
    {
        var index = new long[shape.Length];
        for (int k = shape.Length - 1; k >= 0; k--) { index[k] = i % shape[k]; i /= shape[k]; }
        return index;
    }

    private static long Flat(long[] index, long[] shape)
    {
        long flat = 0;
        for (int k = 0; k < shape.Length; k++) flat = flat * shape[k] + index[k];
        return flat;
    }
}
