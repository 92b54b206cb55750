using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Evaluation;

/// <summary>
/// Supplies the value of a leaf the graph cannot compute itself (an input, a parameter, a dropout
/// mask), given the node and its evaluated shape; the values are row-major, integers as doubles.
/// </summary>
public delegate double[] LeafValues(Node node, long[] shape);

/// <summary>
/// The one reference evaluation of a graph: double precision on the host, straight loops, no
/// blocking, no SIMD, no fusion, elementwise ops through their catalog semantics
/// (<see cref="OpDef.Scalar"/>). The conformance suite checks the CPU backend with it and the tests
/// check what layers compute with it. Integer tensors are held as doubles (every i32 is exact).
/// Out-of-range indices follow the backends: gather reads a row of zeros, scatter and store skip.
/// </summary>
public sealed class ReferenceEvaluator(IReadOnlyDictionary<string, long> bindings, LeafValues leaves)
{
    private readonly Dictionary<Node, (double[] Data, long[] Shape)> _values = [];

    public (double[] Data, long[] Shape) Evaluate(Node node)
    {
        if (_values.TryGetValue(node, out var known)) return known;
        // Evaluate operands first, in id order, so deep graphs do not recurse deeply.
        foreach (var n in GraphTraversal.Ancestors([node]).OrderBy(n => n.Id))
            if (!_values.ContainsKey(n)) _values[n] = Compute(n);
        return _values[node];
    }

    private (double[] Data, long[] Shape) Compute(Node node)
    {
        var shape = node.Shape.Evaluate(bindings);
        var count = Elements(shape);
        var x = node.Inputs.Length > 0 ? _values[node.Inputs[0]] : default;
        var y = node.Inputs.Length > 1 ? _values[node.Inputs[1]] : default;
        var a = node.Attrs;
        var def = OpCatalog.Get(node.Op);
        double[] result = node.Op switch
        {
            OpCode.Input or OpCode.Parameter or OpCode.DropoutMask => leaves(node, shape),
            OpCode.Constant => a.Data is { } data
                ? Enumerable.Range(0, (int)count).Select(i => (double)data[data.Length == 1 ? 0 : i]).ToArray()
                : Fill(count, a.Count is { } dim ? dim.Evaluate(bindings) : (float)a.Value),
            OpCode.Iota => Enumerable.Range(0, (int)count).Select(i => (double)i).ToArray(),
            OpCode.CausalMask => CausalMask(shape[0]),

            _ when def.IsElementwise => Elementwise(def, x, def.Arity == 2 ? y : null, shape, node.DType),

            OpCode.ReduceSum => Reduce(x, a.Axes, max: false),
            OpCode.ReduceMax => Reduce(x, a.Axes, max: true),

            OpCode.Reshape => (double[])x.Data.Clone(),
            OpCode.Permute => Permute(x, [.. a.Perm]),
            OpCode.Expand => Expand(x, shape),

            OpCode.MatMul => MatMul(x, y, shape, a.TransposeA, a.TransposeB),

            OpCode.Gather => Gather(x, y.Data),
            OpCode.ScatterAdd => ScatterAdd(x, y.Data, count),
            OpCode.OneHot => OneHot(x.Data, shape[^1]),
            OpCode.StoreRows => node.DType == DType.Bf16x2 ? StorePackedRows(x, y.Data, _values[node.Inputs[2]].Data) : StoreRows(x, y.Data, _values[node.Inputs[2]].Data),
            OpCode.CachedAttention => node.Inputs[1].DType == DType.Bf16x2
                ? CachedAttention(x, Unpacked(y), Unpacked(_values[node.Inputs[2]]).Data, _values[node.Inputs[3]].Data, _values[node.Inputs[4]].Data)
                : CachedAttention(x, y, _values[node.Inputs[2]].Data, _values[node.Inputs[3]].Data, _values[node.Inputs[4]].Data),
            _ => throw new NotSupportedException($"no reference evaluation of {def.Name}"),
        };
        if (result.Length != count) throw new InvalidOperationException($"reference evaluation of %{node.Id} ({def.Name}) gave {result.Length} values for [{string.Join(",", shape)}]");
        return (result, shape);
    }

    private static long Elements(long[] shape) => shape.Aggregate(1L, (p, q) => p * q);

    private static double[] Fill(long count, double value) => Enumerable.Repeat(value, (int)count).ToArray();

    private static double[] CausalMask(long t)
    {
        var m = new double[t * t];
        for (long r = 0; r < t; r++)
            for (long c = r + 1; c < t; c++) m[r * t + c] = double.NegativeInfinity;
        return m;
    }

    /// <summary>Row-major strides of <paramref name="shape"/> aligned to the right of <paramref name="target"/>, 0 on broadcast axes.</summary>
    private static long[] BroadcastStrides(long[] shape, long[] target)
    {
        var strides = new long[target.Length];
        long stride = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            int t = target.Length - shape.Length + i;
            strides[t] = shape[i] == 1 ? 0 : stride;
            stride *= shape[i];
        }
        return strides;
    }

    /// <summary>The source offset of every element of <paramref name="target"/>, walking a multi-index.</summary>
    private static long[] Offsets(long[] strides, long[] target)
    {
        var offsets = new long[Elements(target)];
        var index = new long[target.Length];
        long offset = 0;
        for (long n = 0; n < offsets.Length; n++)
        {
            offsets[n] = offset;
            for (int d = target.Length - 1; d >= 0; d--)
            {
                index[d]++;
                offset += strides[d];
                if (index[d] < target[d]) break;
                offset -= strides[d] * index[d];
                index[d] = 0;
            }
        }
        return offsets;
    }

    private static double[] Elementwise(OpDef def, (double[] Data, long[] Shape) x, (double[] Data, long[] Shape)? y, long[] shape, DType result)
    {
        var r = new double[Elements(shape)];
        if (y is not { } second)
        {
            for (long i = 0; i < r.Length; i++) r[i] = def.Apply(x.Data[i], 0, result);
            return r;
        }
        var ox = Offsets(BroadcastStrides(x.Shape, shape), shape);
        var oy = Offsets(BroadcastStrides(second.Shape, shape), shape);
        for (long i = 0; i < r.Length; i++) r[i] = def.Apply(x.Data[ox[i]], second.Data[oy[i]], result);
        return r;
    }

    private static double[] Expand((double[] Data, long[] Shape) x, long[] shape) =>
        Offsets(BroadcastStrides(x.Shape, shape), shape).Select(o => x.Data[o]).ToArray();

    private static double[] Reduce((double[] Data, long[] Shape) x, IReadOnlyCollection<int> axes, bool max)
    {
        // Kept shape with 1 on reduced axes; each input element lands on its kept offset.
        var kept = x.Shape.Select((d, i) => axes.Contains(i) ? 1 : d).ToArray();
        var outOffsets = Offsets(BroadcastStrides(kept, x.Shape), x.Shape);
        var r = Fill(Elements(kept), max ? double.NegativeInfinity : 0);
        for (long i = 0; i < x.Data.Length; i++)
        {
            double v = x.Data[i];
            ref double acc = ref r[outOffsets[i]];
            acc = max ? (double.IsNaN(v) || v > acc ? v : acc) : acc + v;
        }
        return r;
    }

    private static double[] Permute((double[] Data, long[] Shape) x, int[] perm)
    {
        var inStrides = BroadcastStrides(x.Shape, x.Shape);
        var outShape = perm.Select(p => x.Shape[p]).ToArray();
        // Size-1 axes have stride 0 from BroadcastStrides, which is harmless: their index is always 0.
        var strides = perm.Select(p => inStrides[p]).ToArray();
        return Offsets(strides, outShape).Select(o => x.Data[o]).ToArray();
    }

    private static double[] MatMul((double[] Data, long[] Shape) x, (double[] Data, long[] Shape) y, long[] shape, bool ta, bool tb)
    {
        long m = shape[^2], n = shape[^1];
        long k = ta ? x.Shape[^2] : x.Shape[^1];
        var batch = shape[..^2];
        var xb = Offsets(BroadcastStrides(x.Shape[..^2], batch), batch);
        var yb = Offsets(BroadcastStrides(y.Shape[..^2], batch), batch);
        var r = new double[Elements(shape)];
        for (long b = 0; b < xb.Length; b++)
        {
            long xo = xb[b] * m * k, yo = yb[b] * k * n, ro = b * m * n;
            for (long i = 0; i < m; i++)
                for (long j = 0; j < n; j++)
                {
                    double acc = 0;
                    for (long p = 0; p < k; p++)
                        acc += x.Data[xo + (ta ? p * m + i : i * k + p)] * y.Data[yo + (tb ? j * k + p : p * n + j)];
                    r[ro + i * n + j] = acc;
                }
        }
        return r;
    }

    private static double[] Gather((double[] Data, long[] Shape) table, double[] index)
    {
        long rows = table.Shape[0], width = Elements(table.Shape[1..]);
        var r = new double[index.Length * width];
        for (long n = 0; n < index.Length; n++)
        {
            long i = (long)index[n];
            if (i < 0 || i >= rows) continue; // out of range: a row of zeros
            Array.Copy(table.Data, i * width, r, n * width, width);
        }
        return r;
    }

    private static double[] ScatterAdd((double[] Data, long[] Shape) values, double[] index, long count)
    {
        long width = index.Length == 0 ? 0 : values.Data.Length / index.Length;
        long rows = width == 0 ? 0 : count / width;
        var r = new double[count];
        for (long n = 0; n < index.Length; n++)
        {
            long i = (long)index[n];
            if (i < 0 || i >= rows) continue; // out of range: skipped
            for (long c = 0; c < width; c++) r[i * width + c] += values.Data[n * width + c];
        }
        return r;
    }

    private static double[] StoreRows((double[] Data, long[] Shape) target, double[] values, double[] index)
    {
        long rows = target.Shape[0], width = Elements(target.Shape[1..]);
        var r = (double[])target.Data.Clone();
        for (long n = 0; n < index.Length; n++)
        {
            long i = (long)index[n];
            if (i >= 0 && i < rows) Array.Copy(values, n * width, r, i * width, width); // out of range: skipped
        }
        return r;
    }

    /// <summary>store_rows into a <see cref="DType.Bf16x2"/> target: each value row (twice a target row's elements) rounded to bfloat16 and packed in pairs.</summary>
    private static double[] StorePackedRows((double[] Data, long[] Shape) target, double[] values, double[] index)
    {
        long rows = target.Shape[0], width = Elements(target.Shape[1..]);
        var r = (double[])target.Data.Clone();
        for (long n = 0; n < index.Length; n++)
        {
            long i = (long)index[n];
            if (i < 0 || i >= rows) continue; // out of range: skipped
            for (long c = 0; c < width; c++)
                r[i * width + c] = BFloat16.Pack((float)values[n * 2 * width + 2 * c], (float)values[n * 2 * width + 2 * c + 1]);
        }
        return r;
    }

    /// <summary>A <see cref="DType.Bf16x2"/> tensor [..., n] as the f32 values it holds, [..., 2n].</summary>
    private static (double[] Data, long[] Shape) Unpacked((double[] Data, long[] Shape) packed)
    {
        var r = new double[packed.Data.Length * 2];
        for (long e = 0; e < packed.Data.Length; e++)
            for (int half = 0; half < 2; half++) r[2 * e + half] = BFloat16.Unpack((int)packed.Data[e], half);
        var shape = (long[])packed.Shape.Clone();
        shape[^1] *= 2;
        return (r, shape);
    }

    /// <summary>Row (b, j, t) at p = position[b] + t: softmax over l ≤ p of q·k_l/√dk in slot[b], times V; zeros when nothing is visible.</summary>
    private static double[] CachedAttention((double[] Data, long[] Shape) q, (double[] Data, long[] Shape) keys, double[] values, double[] position, double[] slot)
    {
        var (batch, heads, tokens, width) = (q.Shape[0], q.Shape[1], q.Shape[2], q.Shape[3]);
        var (slots, length) = (keys.Shape[0], keys.Shape[2]);
        var r = new double[q.Data.Length];
        var scores = new double[length];
        for (long b = 0; b < batch; b++)
            for (long j = 0; j < heads; j++)
                for (long t = 0; t < tokens; t++)
                {
                    long row = (b * heads + j) * tokens + t, p = (long)position[b] + t, s = (long)slot[b];
                    if (s < 0 || s >= slots || p < 0 || p >= length) continue;
                    long first = (s * heads + j) * length * width;
                    double max = double.NegativeInfinity, sum = 0;
                    for (long l = 0; l <= p; l++)
                    {
                        double dot = 0;
                        for (long c = 0; c < width; c++) dot += q.Data[row * width + c] * keys.Data[first + l * width + c];
                        scores[l] = dot / Math.Sqrt(width);
                        max = Math.Max(max, scores[l]);
                    }
                    for (long l = 0; l <= p; l++) sum += scores[l] = Math.Exp(scores[l] - max);
                    for (long l = 0; l <= p; l++)
                        for (long c = 0; c < width; c++) r[row * width + c] += scores[l] / sum * values[first + l * width + c];
                }
        return r;
    }

    private static double[] OneHot(double[] index, long depth)
    {
        var r = new double[index.Length * depth];
        for (long n = 0; n < index.Length; n++)
        {
            long i = (long)index[n];
            if (i >= 0 && i < depth) r[n * depth + i] = 1;
        }
        return r;
    }
}
