using System.Collections.Immutable;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Ops;

/// <summary>
/// One entry per primitive op: arity, kind, type rule, gradient rule and, for elementwise ops, the
/// scalar semantics, derivative, operand domains and DSL use. The conformance cases, the gradient
/// checks and the DSL's functions are derived from those, so a new elementwise op needs no entry
/// there. The gradient rules are graph too, so the backward pass is made of the same primitives as
/// the forward pass.
/// </summary>
public static class OpCatalog
{
    private static readonly OpDef[] Entries = Build();

    public static OpDef Get(OpCode code) => Entries[(int)code];

    public static IReadOnlyList<OpDef> All => Entries;

    private static OpDef[] Build()
    {
        var defs = new List<OpDef>
        {
            Leaf(OpCode.Input, "input", a => new TensorType(a.DType, a.Shape!)),
            Leaf(OpCode.Parameter, "parameter", a => new TensorType(DType.F32, a.Shape!)),
            Leaf(OpCode.Constant, "constant", a => new TensorType(DType.F32, a.Shape ?? Shape.Scalar)),
            Leaf(OpCode.Iota, "iota", a => new TensorType(DType.I32, Shape.Of(a.Count!))),
            Leaf(OpCode.CausalMask, "causal_mask", a => new TensorType(DType.F32, Shape.Of(a.Count!, a.Count!))),
            Leaf(OpCode.DropoutMask, "dropout_mask", a => new TensorType(DType.F32, a.Shape!)),

            Unary(OpCode.Neg, "neg", (b, n, g) => [b.Neg(g)], x => -x, _ => -1),
            Unary(OpCode.Exp, "exp", (b, n, g) => [b.Mul(g, n)], Math.Exp, Math.Exp, dsl: DslUse.Function),
            Unary(OpCode.Log, "log", (b, n, g) => [b.Div(g, n.Inputs[0])], Math.Log, x => 1 / x, OperandDomain.Positive, DslUse.Function),
            Unary(OpCode.Sqrt, "sqrt", (b, n, g) => [b.Div(g, b.Mul(n, b.Scalar(2)))], Math.Sqrt, x => 0.5 / Math.Sqrt(x),
                OperandDomain.Positive, DslUse.Function),
            Unary(OpCode.Recip, "recip", (b, n, g) => [b.Neg(b.Mul(g, b.Mul(n, n)))], x => 1 / x, x => -1 / (x * x), OperandDomain.Positive),
            Unary(OpCode.Tanh, "tanh", (b, n, g) => [b.Mul(g, b.Sub(b.Scalar(1), b.Mul(n, n)))], Math.Tanh,
                x => 1 - Math.Tanh(x) * Math.Tanh(x), dsl: DslUse.Activation),
            Unary(OpCode.Sin, "sin", (b, n, g) => [b.Mul(g, b.Sin(b.Add(n.Inputs[0], b.Scalar(Math.PI / 2))))], Math.Sin, Math.Cos),
            Unary(OpCode.Silu, "silu", SiluGradient, x => x / (1 + Math.Exp(-x)), x =>
            {
                var s = 1 / (1 + Math.Exp(-x));
                return s * (1 + x * (1 - s));
            }, dsl: DslUse.Activation),
            // max(x, 0)², the squared ReLU of Primer and nanochat's MLPs: one instruction in a fused program (a max, a
            // constant and a product composed), and d/dx = 2·max(x, 0) is continuous, so finite differences hold at 0.
            Unary(OpCode.Relu2, "relu2", (b, n, g) => [b.Mul(g, b.Mul(b.Scalar(2), b.Max(n.Inputs[0], b.Scalar(0))))], x =>
            {
                var relu = Math.Max(x, 0); // a NaN stays NaN, as in max
                return relu * relu;
            }, x => x > 0 ? 2 * x : 0, dsl: DslUse.Activation),
            new(OpCode.Cast, "cast", 1, OpKind.Elementwise, (t, a) => new TensorType(a.DType, t[0].Shape),
                (b, n, g) => [n.Inputs[0].DType == DType.F32 && n.DType == DType.F32 ? g : null])
            {
                Scalar = (x, _, result) => result == DType.I32 ? Math.Truncate(x) : x,
            },
            Unary(OpCode.Detach, "detach", null, x => x, null),

            Binary(OpCode.Add, "add", (b, n, g) => [b.SumTo(g, n.Inputs[0].Shape), b.SumTo(g, n.Inputs[1].Shape)], (x, y) => x + y),
            Binary(OpCode.Sub, "sub", (b, n, g) => [b.SumTo(g, n.Inputs[0].Shape), b.SumTo(b.Neg(g), n.Inputs[1].Shape)], (x, y) => x - y),
            Binary(OpCode.Mul, "mul", (b, n, g) =>
                [b.SumTo(b.Mul(g, n.Inputs[1]), n.Inputs[0].Shape), b.SumTo(b.Mul(g, n.Inputs[0]), n.Inputs[1].Shape)], (x, y) => x * y),
            Binary(OpCode.Div, "div", (b, n, g) =>
                [b.SumTo(b.Div(g, n.Inputs[1]), n.Inputs[0].Shape),
                 b.SumTo(b.Neg(b.Div(b.Mul(g, n), n.Inputs[1])), n.Inputs[1].Shape)], (x, y) => x / y, OperandDomain.Positive),
            Binary(OpCode.Max, "max", (b, n, g) =>
            {
                // Ties send the gradient to the first operand, like a subgradient would.
                var secondWins = b.Greater(n.Inputs[1], n.Inputs[0]);
                return [b.SumTo(b.Mul(g, b.Sub(b.Scalar(1), secondWins)), n.Inputs[0].Shape),
                        b.SumTo(b.Mul(g, secondWins), n.Inputs[1].Shape)];
            }, (x, y) => double.IsNaN(x) || double.IsNaN(y) ? double.NaN : Math.Max(x, y)), // a NaN operand wins, +0 > -0
            Binary(OpCode.Greater, "greater", null, (x, y) => x > y ? 1 : 0),
            Binary(OpCode.Equal, "equal", null, (x, y) => x == y ? 1 : 0),

            new(OpCode.ReduceSum, "reduce_sum", 1, OpKind.Reduction, ReduceType,
                (b, n, g) => [b.Expand(b.Reshape(g, KeptShape(n.Inputs[0].Shape, n.Attrs.Axes)), n.Inputs[0].Shape)]),
            new(OpCode.ReduceMax, "reduce_max", 1, OpKind.Reduction, ReduceType, (b, n, g) =>
            {
                var kept = KeptShape(n.Inputs[0].Shape, n.Attrs.Axes);
                var x = n.Inputs[0];
                var isMax = b.Equal(x, b.Expand(b.Reshape(n, kept), x.Shape));
                return [b.Mul(b.Expand(b.Reshape(g, kept), x.Shape), isMax)];
            }),

            new(OpCode.Reshape, "reshape", 1, OpKind.Movement, ReshapeType, (b, n, g) => [b.Reshape(g, n.Inputs[0].Shape)]),
            new(OpCode.Permute, "permute", 1, OpKind.Movement, PermuteType, (b, n, g) =>
            {
                var inverse = new int[n.Attrs.Perm.Length];
                for (int i = 0; i < inverse.Length; i++) inverse[n.Attrs.Perm[i]] = i;
                return [b.Permute(g, inverse)];
            }),
            new(OpCode.Expand, "expand", 1, OpKind.Movement, ExpandType, (b, n, g) => [b.SumTo(g, n.Inputs[0].Shape)]),

            new(OpCode.MatMul, "matmul", 2, OpKind.Contraction, MatMulType, MatMulGradient),

            new(OpCode.Gather, "gather", 2, OpKind.Index, GatherType,
                (b, n, g) => [b.ScatterAdd(g, n.Inputs[1], n.Inputs[0].Shape[0]), null]),
            new(OpCode.ScatterAdd, "scatter_add", 2, OpKind.Index, ScatterAddType,
                (b, n, g) => [b.Gather(g, n.Inputs[1]), null]),
            new(OpCode.OneHot, "one_hot", 1, OpKind.Index, (t, a) =>
            {
                RequireDType("one_hot", t[0], DType.I32);
                return new TensorType(DType.F32, new Shape(t[0].Shape.Dims.Add(a.Count!)));
            }, null),
            // Inference state only (key/value caches): nothing upstream of a cache is trained.
            new(OpCode.StoreRows, "store_rows", 3, OpKind.Index, StoreRowsType, null),
            // Decode only, like the caches it reads: no gradient.
            new(OpCode.CachedAttention, "cached_attention", 5, OpKind.Contraction, CachedAttentionType, null),
        };

        var table = new OpDef[Enum.GetValues<OpCode>().Length];
        foreach (var def in defs) table[(int)def.Code] = def;
        for (int i = 0; i < table.Length; i++)
            if (table[i] is null) throw new InvalidOperationException($"op {(OpCode)i} has no catalog entry");
        return table;
    }

    private static OpDef Leaf(OpCode code, string name, Func<OpAttrs, TensorType> type) =>
        new(code, name, 0, OpKind.Leaf, (_, a) => type(a), null);

    private static OpDef Unary(OpCode code, string name, GradientRule? gradient, Func<double, double> scalar, Func<double, double>? derivative,
        OperandDomain domain = OperandDomain.Real, DslUse dsl = DslUse.None) =>
        new(code, name, 1, OpKind.Elementwise, (t, _) =>
        {
            if (code != OpCode.Detach) RequireDType(name, t[0], DType.F32);
            return t[0];
        }, gradient)
        {
            Scalar = (x, _, _) => scalar(x),
            Derivative = derivative,
            Domains = [domain],
            Dsl = dsl,
        };

    /// <summary>A binary elementwise op; its first operand's domain is the reals, the second's <paramref name="second"/>.</summary>
    private static OpDef Binary(OpCode code, string name, GradientRule? gradient, Func<double, double, double> scalar,
        OperandDomain second = OperandDomain.Real) =>
        new(code, name, 2, OpKind.Elementwise, (t, _) =>
        {
            RequireDType(name, t[0], DType.F32);
            RequireDType(name, t[1], DType.F32);
            var shape = Shape.TryBroadcast(t[0].Shape, t[1].Shape)
                ?? throw new ShapeException($"{name}: shapes {t[0].Shape} and {t[1].Shape} do not broadcast");
            return new TensorType(DType.F32, shape);
        }, gradient)
        {
            Scalar = (x, y, _) => scalar(x, y),
            Domains = [OperandDomain.Real, second],
        };

    /// <summary>
    /// silu'(x) = σ(x)·(1 + x·(1 − σ(x))), σ built as ½·(1 + tanh(x/2)) so that it stays finite for
    /// any finite x (1/(1 + e^−x) would multiply an overflowed e^−x by 0 in the backward pass).
    /// </summary>
    private static Node?[] SiluGradient(GraphBuilder b, Node n, Node g)
    {
        var x = n.Inputs[0];
        var s = b.Add(b.Scalar(0.5), b.Mul(b.Scalar(0.5), b.Tanh(b.Mul(b.Scalar(0.5), x))));
        return [b.Mul(g, b.Mul(s, b.Add(b.Scalar(1), b.Mul(x, b.Sub(b.Scalar(1), s)))))];
    }

    private static void RequireDType(string op, TensorType type, DType expected)
    {
        if (type.DType != expected)
            throw new ShapeException($"{op}: expected {expected.Name()} but got {type}");
    }

    internal static Shape KeptShape(Shape shape, ImmutableArray<int> axes) =>
        new(shape.Dims.Select((d, i) => axes.Contains(i) ? Dim.Const(1) : d));

    private static TensorType ReduceType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        var shape = t[0].Shape;
        foreach (var axis in a.Axes)
            if (axis < 0 || axis >= shape.Rank)
                throw new ShapeException($"reduce: axis {axis} is out of range for shape {shape}");
        var dims = a.KeepDims
            ? KeptShape(shape, a.Axes).Dims
            : shape.Dims.Where((_, i) => !a.Axes.Contains(i)).ToImmutableArray();
        return new TensorType(t[0].DType, new Shape(dims));
    }

    private static TensorType ReshapeType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        if (t[0].Shape.Elements != a.Shape!.Elements)
            throw new ShapeException($"reshape: cannot reshape {t[0].Shape} ({t[0].Shape.Elements} elements) to {a.Shape} ({a.Shape.Elements} elements)");
        return new TensorType(t[0].DType, a.Shape);
    }

    private static TensorType PermuteType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        var shape = t[0].Shape;
        var perm = a.Perm;
        if (perm.Length != shape.Rank || perm.Distinct().Count() != perm.Length || perm.Any(p => p < 0 || p >= shape.Rank))
            throw new ShapeException($"permute: [{string.Join(", ", perm)}] is not a permutation of the axes of {shape}");
        return new TensorType(t[0].DType, new Shape(perm.Select(p => shape[p])));
    }

    private static TensorType ExpandType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        var target = a.Shape!;
        var broadcast = Shape.TryBroadcast(t[0].Shape, target);
        if (broadcast is null || !broadcast.Equals(target))
            throw new ShapeException($"expand: {t[0].Shape} cannot be broadcast to {target}");
        return new TensorType(t[0].DType, target);
    }

    private static TensorType MatMulType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        var (x, y) = (t[0].Shape, t[1].Shape);
        RequireDType("matmul", t[0], DType.F32);
        RequireDType("matmul", t[1], DType.F32);
        if (x.Rank < 2 || y.Rank < 2)
            throw new ShapeException($"matmul: both operands need rank >= 2, got {x} and {y}");
        var (m, k1) = a.TransposeA ? (x.At(-1), x.At(-2)) : (x.At(-2), x.At(-1));
        var (k2, n) = a.TransposeB ? (y.At(-1), y.At(-2)) : (y.At(-2), y.At(-1));
        if (k1 != k2)
            throw new ShapeException($"matmul: inner dimensions differ: {x}{(a.TransposeA ? "ᵀ" : "")} × {y}{(a.TransposeB ? "ᵀ" : "")} ({k1} vs {k2})");
        var batch = Shape.TryBroadcast(new Shape(x.Dims[..^2]), new Shape(y.Dims[..^2]))
            ?? throw new ShapeException($"matmul: batch dimensions of {x} and {y} do not broadcast");
        return new TensorType(DType.F32, new Shape(batch.Dims.Add(m).Add(n)));
    }

    private static Node?[] MatMulGradient(GraphBuilder b, Node n, Node g)
    {
        var (x, y) = (n.Inputs[0], n.Inputs[1]);
        bool ta = n.Attrs.TransposeA, tb = n.Attrs.TransposeB;
        Node dx = (ta, tb) switch
        {
            (false, false) => b.MatMul(g, y, transposeB: true),
            (false, true) => b.MatMul(g, y),
            (true, false) => b.MatMul(y, g, transposeB: true),
            (true, true) => b.MatMul(y, g, transposeA: true, transposeB: true),
        };
        // A rank-2 y shared by a batch of x (a linear layer on [B, T, K]): Σ over the batch of xᵢᵀ·gᵢ is
        // one GEMM with the batch folded into the contraction, [B·T, K]ᵀ · [B·T, N], instead of a
        // batched matmul into [B, K, N] and a reduction over B. Reshapes of the row-major x and g move no data.
        if (y.Shape.Rank == 2 && x.Shape.Rank > 2 && !ta)
        {
            var rows = x.Shape.Dims[..^1].Aggregate(Dim.Const(1), (acc, d) => acc * d);
            var x2 = b.Reshape(x, Shape.Of(rows, x.Shape.At(-1)));
            var g2 = b.Reshape(g, Shape.Of(rows, g.Shape.At(-1)));
            return [b.SumTo(dx, x.Shape), tb ? b.MatMul(g2, x2, transposeA: true) : b.MatMul(x2, g2, transposeA: true)];
        }
        Node dy = (ta, tb) switch
        {
            (false, false) => b.MatMul(x, g, transposeA: true),
            (false, true) => b.MatMul(g, x, transposeA: true),
            (true, false) => b.MatMul(x, g),
            (true, true) => b.MatMul(g, x, transposeA: true, transposeB: true),
        };
        return [b.SumTo(dx, x.Shape), b.SumTo(dy, y.Shape)];
    }

    private static TensorType GatherType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        RequireDType("gather", t[1], DType.I32);
        if (t[0].Shape.Rank < 1) throw new ShapeException($"gather: the table must have rank >= 1, got {t[0].Shape}");
        return new TensorType(t[0].DType, new Shape(t[1].Shape.Dims.AddRange(t[0].Shape.Dims[1..])));
    }

    private static TensorType ScatterAddType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        RequireDType("scatter_add", t[1], DType.I32);
        var (values, index) = (t[0].Shape, t[1].Shape);
        if (values.Rank < index.Rank || !values.Dims[..index.Rank].SequenceEqual(index.Dims))
            throw new ShapeException($"scatter_add: values {values} do not start with the index shape {index}");
        return new TensorType(t[0].DType, new Shape(values.Dims[index.Rank..].Insert(0, a.Count!)));
    }

    /// <summary>
    /// store_rows(target [R, ...], values [...index, ...], index i32[...]): the target with row index[n] replaced by values[n].
    /// A <see cref="DType.Bf16x2"/> target (a bf16 cache) takes f32 values twice as wide in the last axis, rounded and packed.
    /// </summary>
    private static TensorType StoreRowsType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        if (t[0].DType != DType.Bf16x2) RequireDType("store_rows", t[0], DType.F32);
        RequireDType("store_rows", t[1], DType.F32);
        RequireDType("store_rows", t[2], DType.I32);
        var (target, values, index) = (t[0].Shape, t[1].Shape, t[2].Shape);
        var row = target.Rank < 1 ? [] : t[0].DType == DType.Bf16x2 ? PackedRow(target) : target.Dims[1..];
        if (target.Rank < 1 || values.Rank != index.Rank + target.Rank - 1
            || !values.Dims[..index.Rank].SequenceEqual(index.Dims) || !values.Dims[index.Rank..].SequenceEqual(row))
            throw new ShapeException($"store_rows: values {values} must be the index shape {index} followed by a row of the target {t[0]}"
                + (t[0].DType == DType.Bf16x2 ? " (two values per bf16x2 element)" : ""));
        return t[0];
    }

    /// <summary>The f32 row a row of a <see cref="DType.Bf16x2"/> tensor [R, ..., n] holds: [..., 2n].</summary>
    private static ImmutableArray<Dim> PackedRow(Shape packed) => packed.Dims[1..].SetItem(packed.Rank - 2, packed.Dims[^1] * 2);

    /// <summary>
    /// cached_attention(q [B, h, T, dk], keys [S, h, L, dk], values [S, h, L, dk], position i32[B], slot i32[B]) → [B, h, T, dk]:
    /// token t of row b (at position p = position[b] + t) attends over cache positions 0 … p of slot[b]. Keys and values are
    /// f32, or both <see cref="DType.Bf16x2"/> [S, h, L, dk / 2] (a bf16 cache, read widened).
    /// </summary>
    private static TensorType CachedAttentionType(IReadOnlyList<TensorType> t, OpAttrs a)
    {
        RequireDType("cached_attention", t[0], DType.F32);
        if (t[1].DType != DType.Bf16x2) RequireDType("cached_attention", t[1], DType.F32);
        RequireDType("cached_attention", t[2], t[1].DType);
        RequireDType("cached_attention", t[3], DType.I32);
        RequireDType("cached_attention", t[4], DType.I32);
        var (q, keys, values, position, slot) = (t[0].Shape, t[1].Shape, t[2].Shape, t[3].Shape, t[4].Shape);
        int perElement = t[1].DType == DType.Bf16x2 ? 2 : 1;
        if (q.Rank != 4 || keys.Rank != 4 || !keys.Equals(values) || q.Dims[1] != keys.Dims[1] || q.Dims[3] != keys.Dims[3] * perElement)
        {
            string width = q.Rank != 4 ? "dk" : perElement == 2 ? $"({q.Dims[3]}) / 2" : $"{q.Dims[3]}";
            throw new ShapeException($"cached_attention: queries {q} need keys and values {t[1].DType.Name()}[slots, {(q.Rank == 4 ? q.Dims[1] : "h")}, length, {width}], got {keys} and {values}");
        }
        if (position.Rank != 1 || slot.Rank != 1 || position.Dims[0] != q.Dims[0] || slot.Dims[0] != q.Dims[0])
            throw new ShapeException($"cached_attention: position {position} and slot {slot} must be [{q.Dims[0]}], one per row of the queries {q}");
        return t[0];
    }
}
