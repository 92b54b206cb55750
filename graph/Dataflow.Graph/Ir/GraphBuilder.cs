using System.Collections.Immutable;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Ir;

/// <summary>
/// Appends nodes to a <see cref="ComputeGraph"/>, inferring each result type from the catalog as it
/// goes, so a shape error surfaces at the line that caused it. Lowering and autodiff both build
/// through here.
/// </summary>
public sealed class GraphBuilder
{
    private readonly Stack<string> _scopes = new();
    private readonly Dictionary<double, Node> _scalars = [];

    public GraphBuilder(ComputeGraph graph) => Graph = graph;

    public ComputeGraph Graph { get; }

    public string CurrentScope => _scopes.Count == 0 ? "" : _scopes.Peek();

    /// <summary>Nodes built inside the returned scope are tagged with <paramref name="name"/> (nested with dots).</summary>
    public IDisposable Scope(string name)
    {
        _scopes.Push(CurrentScope.Length == 0 ? name : CurrentScope + "." + name);
        return new PopScope(_scopes);
    }

    private sealed class PopScope(Stack<string> scopes) : IDisposable
    {
        public void Dispose() => scopes.Pop();
    }

    public Node Apply(OpCode op, OpAttrs attrs, params Node[] inputs)
    {
        var def = OpCatalog.Get(op);
        if (inputs.Length != def.Arity)
            throw new GraphException($"{def.Name} takes {def.Arity} operand(s), got {inputs.Length}");
        var type = def.InferType(inputs.Select(i => i.Type).ToArray(), attrs);
        return Graph.Append(op, inputs, attrs, type, CurrentScope);
    }

    // Leaves.
    public Node Input(string name, TensorType type)
    {
        var node = Apply(OpCode.Input, new OpAttrs { Name = name, Shape = type.Shape, DType = type.DType });
        Graph.RegisterInput(node);
        return node;
    }

    /// <summary>A state tensor (<see cref="OpAttrs.Persistent"/>): an input the session keeps between steps instead of being fed.</summary>
    public Node State(string name, TensorType type)
    {
        var node = Apply(OpCode.Input, new OpAttrs { Name = name, Shape = type.Shape, DType = type.DType, Persistent = true });
        Graph.RegisterInput(node);
        return node;
    }

    public Node Parameter(string name, Shape shape, ParamInit init, ParamCategory category = ParamCategory.Other)
    {
        if (shape.IsConcrete) shape.ElementCount();    // a parameter's size must fit in 64 bits
        var node = Apply(OpCode.Parameter, new OpAttrs { Name = name, Shape = shape, Init = init });
        Graph.RegisterParameter(new ParameterInfo(node, category));
        return node;
    }

    /// <summary>A scalar constant; one node per value per graph.</summary>
    public Node Scalar(double value)
    {
        if (!_scalars.TryGetValue(value, out var node))
            _scalars[value] = node = Apply(OpCode.Constant, new OpAttrs { Value = value });
        return node;
    }

    public Node Constant(float[] data, Shape shape) => Apply(OpCode.Constant, new OpAttrs { Data = data, Shape = shape });
    public Node Iota(Dim length) => Apply(OpCode.Iota, new OpAttrs { Count = length });
    public Node CausalMask(Dim length) => Apply(OpCode.CausalMask, new OpAttrs { Count = length });
    public Node DropoutMask(Shape shape, double p) => Apply(OpCode.DropoutMask, new OpAttrs { Shape = shape, Value = p });

    // Elementwise.
    public Node Neg(Node x) => Apply(OpCode.Neg, OpAttrs.None, x);
    public Node Exp(Node x) => Apply(OpCode.Exp, OpAttrs.None, x);
    public Node Log(Node x) => Apply(OpCode.Log, OpAttrs.None, x);
    public Node Sqrt(Node x) => Apply(OpCode.Sqrt, OpAttrs.None, x);
    public Node Recip(Node x) => Apply(OpCode.Recip, OpAttrs.None, x);
    public Node Tanh(Node x) => Apply(OpCode.Tanh, OpAttrs.None, x);
    public Node Sin(Node x) => Apply(OpCode.Sin, OpAttrs.None, x);
    public Node Cast(Node x, DType dtype) => Apply(OpCode.Cast, new OpAttrs { DType = dtype }, x);
    public Node Detach(Node x) => Apply(OpCode.Detach, OpAttrs.None, x);
    public Node Add(Node a, Node b) => Apply(OpCode.Add, OpAttrs.None, a, b);
    public Node Sub(Node a, Node b) => Apply(OpCode.Sub, OpAttrs.None, a, b);
    public Node Mul(Node a, Node b) => Apply(OpCode.Mul, OpAttrs.None, a, b);
    public Node Div(Node a, Node b) => Apply(OpCode.Div, OpAttrs.None, a, b);
    public Node Max(Node a, Node b) => Apply(OpCode.Max, OpAttrs.None, a, b);
    public Node Greater(Node a, Node b) => Apply(OpCode.Greater, OpAttrs.None, a, b);
    public Node Equal(Node a, Node b) => Apply(OpCode.Equal, OpAttrs.None, a, b);

    // Reductions; axes may be negative (counted from the end).
    public Node ReduceSum(Node x, IEnumerable<int> axes, bool keepDims = false) =>
        Apply(OpCode.ReduceSum, ReduceAttrs(x, axes, keepDims), x);

    public Node ReduceMax(Node x, IEnumerable<int> axes, bool keepDims = false) =>
        Apply(OpCode.ReduceMax, ReduceAttrs(x, axes, keepDims), x);

    public Node ReduceMean(Node x, IEnumerable<int> axes, bool keepDims = false)
    {
        var attrs = ReduceAttrs(x, axes, keepDims);
        var count = attrs.Axes.Aggregate(Dim.Const(1), (acc, a) => acc * x.Shape[a]);
        var sum = Apply(OpCode.ReduceSum, attrs, x);
        return count.IsConstant ? Mul(sum, Scalar(1.0 / count.Value)) : Div(sum, DimValue(count));
    }

    private static OpAttrs ReduceAttrs(Node x, IEnumerable<int> axes, bool keepDims) => new()
    {
        Axes = axes.Select(a => x.Shape.NormalizeAxis(a)).Distinct().Order().ToImmutableArray(),
        KeepDims = keepDims,
    };

    /// <summary>A dimension's value as an f32 scalar; symbolic ones are filled in when shapes are bound (means over B or T).</summary>
    public Node DimValue(Dim dim) => dim.IsConstant ? Scalar(dim.Value) : Apply(OpCode.Constant, new OpAttrs { Count = dim });

    // Movement.
    public Node Reshape(Node x, Shape shape) => x.Shape.Equals(shape) ? x : Apply(OpCode.Reshape, new OpAttrs { Shape = shape }, x);
    public Node Permute(Node x, IReadOnlyList<int> perm) => Apply(OpCode.Permute, new OpAttrs { Perm = [.. perm] }, x);
    public Node Expand(Node x, Shape shape) => x.Shape.Equals(shape) ? x : Apply(OpCode.Expand, new OpAttrs { Shape = shape }, x);

    /// <summary>Swaps the last two axes.</summary>
    public Node TransposeLast(Node x)
    {
        var perm = Enumerable.Range(0, x.Shape.Rank).ToArray();
        (perm[^1], perm[^2]) = (perm[^2], perm[^1]);
        return Permute(x, perm);
    }

    public Node MatMul(Node a, Node b, bool transposeA = false, bool transposeB = false) =>
        Apply(OpCode.MatMul, new OpAttrs { TransposeA = transposeA, TransposeB = transposeB }, a, b);

    public Node Gather(Node table, Node index) => Apply(OpCode.Gather, OpAttrs.None, table, index);
    public Node ScatterAdd(Node values, Node index, Dim rows) => Apply(OpCode.ScatterAdd, new OpAttrs { Count = rows }, values, index);
    /// <summary>
    /// The target with row index[n] replaced by values[n] (out-of-range indices are skipped; indices
    /// must be distinct). Written in place: the result shares the target's storage, so nothing else
    /// may read the target (the engine checks); it is how a graph updates a state tensor.
    /// </summary>
    public Node StoreRows(Node target, Node values, Node index) => Apply(OpCode.StoreRows, OpAttrs.None, target, values, index);
    /// <summary>
    /// Scaled dot-product attention (scale 1/√dk) of queries q [B, h, T, dk] over a cache: token t of row b,
    /// at position p = position[b] + t, sees the cache rows 0 … p of slot[b] (keys and values [S, h, L, dk]),
    /// so the work grows with the valid length, not with L. A row whose slot is outside [0, S) or whose
    /// position is outside [0, L) sees nothing and gives zeros (an idle row of a batched decode step).
    /// </summary>
    public Node CachedAttention(Node q, Node keys, Node values, Node position, Node slot) =>
        Apply(OpCode.CachedAttention, OpAttrs.None, q, keys, values, position, slot);
    public Node OneHot(Node index, Dim depth) => Apply(OpCode.OneHot, new OpAttrs { Count = depth }, index);

    /// <summary>
    /// Sums a broadcast result back to one operand's shape: the reverse of NumPy broadcasting,
    /// used by every gradient rule whose forward op broadcasts.
    /// </summary>
    public Node SumTo(Node x, Shape target)
    {
        if (x.Shape.Equals(target)) return x;
        int extra = x.Shape.Rank - target.Rank;
        if (extra < 0) throw new ShapeException($"cannot sum {x.Shape} to the larger shape {target}");
        var axes = new List<int>();
        for (int i = 0; i < x.Shape.Rank; i++)
        {
            if (i < extra) { axes.Add(i); continue; }
            var want = target[i - extra];
            if (want.IsConstant && want.Value == 1 && !(x.Shape[i].IsConstant && x.Shape[i].Value == 1)) axes.Add(i);
        }
        var summed = axes.Count == 0 ? x : ReduceSum(x, axes, keepDims: true);
        return Reshape(summed, target);
    }
}
