using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>Movement and indexing functions: reshape, transpose, matmul, one_hot.</summary>
public static class Shaping
{
    public static IEnumerable<LayerDef> All =>
    [
        new("reshape", ["x", "shape"], (a, c) =>
        {
            var x = a.Tensor("x");
            return new TensorValue(c.Builder.Reshape(x, InferShape(x.Shape, a.Dims("shape"))));
        }),
        new("transpose", ["x", "perm?"], (a, c) =>
        {
            var x = a.Tensor("x");
            if (!a.Has("perm"))
            {
                if (x.Shape.Rank < 2) throw new ShapeException($"transpose: needs rank >= 2, got {x.Type}");
                return new TensorValue(c.Builder.TransposeLast(x));
            }
            var perm = a.Axes("perm").Select(p => p < 0 ? p + x.Shape.Rank : p).ToArray();
            return new TensorValue(c.Builder.Permute(x, perm));
        }),
        new("matmul", ["a", "b", "transpose_a?", "transpose_b?"], (a, c) =>
            new TensorValue(c.Builder.MatMul(a.Tensor("a"), a.Tensor("b"), a.Bool("transpose_a", false), a.Bool("transpose_b", false)))),
        new("one_hot", ["idx", "n"], (a, c) => new TensorValue(c.Builder.OneHot(a.Tensor("idx"), a.Size("n")))),
    ];

    /// <summary>Fills in one -1 entry so the element counts agree (exactly, also for symbolic sizes).</summary>
    public static Shape InferShape(Shape source, IReadOnlyList<Dim> wanted)
    {
        var holes = wanted.Select((d, i) => (d, i)).Where(p => p.d.IsConstant && p.d.Value == -1).ToList();
        if (holes.Count > 1) throw new ShapeException($"reshape: at most one -1 is allowed, got [{string.Join(", ", wanted)}]");
        if (holes.Count == 0) return new Shape(wanted);
        var known = wanted.Where((_, i) => i != holes[0].i).Aggregate(Dim.Const(1), (acc, d) => acc * d);
        var inferred = DivideByMonomial(source.Elements, known)
            ?? throw new ShapeException($"reshape: cannot reshape {source} to [{string.Join(", ", wanted)}]: {source.Elements} elements are not a multiple of {known}");
        return new Shape(wanted.Select((d, i) => i == holes[0].i ? inferred : d));
    }

    /// <summary>Exact division of a polynomial by a single term (4·T divides 8·B·T, giving 2·B); null when it does not divide.</summary>
    private static Dim? DivideByMonomial(Dim total, Dim divisor)
    {
        if (divisor.Terms.Length != 1) return total == divisor ? Dim.Const(1) : null;
        var (coefficient, symbols) = (divisor.Terms[0].Coefficient, divisor.Terms[0].Symbols);
        var result = Dim.Const(0);
        foreach (var term in total.Terms)
        {
            if (term.Coefficient % coefficient != 0) return null;
            var remaining = term.Symbols.ToList();
            foreach (var s in symbols)
                if (!remaining.Remove(s)) return null;
            result += remaining.Aggregate(Dim.Const(term.Coefficient / coefficient), (acc, s) => acc * Dim.Symbol(s));
        }
        return result;
    }
}
