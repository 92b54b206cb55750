using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;

namespace Dataflow.Conformance.Cases;

/// <summary>Unary and binary elementwise ops: ranks 0 to 4, sizes 1 and odd, broadcasting on each axis; forward and backward.</summary>
internal static class ElementwiseCases
{
    private static readonly long[][] UnaryShapes = [[], [1], [17], [3, 65], [2, 3, 5, 7], [130, 33]];

    /// <summary>Each axis of a rank-4 shape broadcast in turn, then rank and scalar broadcasting on either side.</summary>
    private static readonly (long[] A, long[] B)[] BinaryShapes =
    [
        ([17, 65], [17, 65]),
        ([], []),
        ([1], [1]),
        ([4, 3, 5, 7], [1, 3, 5, 7]),
        ([4, 3, 5, 7], [4, 1, 5, 7]),
        ([4, 3, 5, 7], [4, 3, 1, 7]),
        ([4, 3, 5, 7], [4, 3, 5, 1]),
        ([3, 17, 65], [65]),
        ([130], []),
        ([], [130]),
        ([3, 1, 5], [1, 4, 1]),
    ];

    /// <summary>
    /// Where this suite samples an operand of each domain: wide enough to reach tanh's and silu's
    /// saturation and most of a period of sin on either side of 0 (argument reduction), near enough
    /// to 0 to test log, sqrt and recip where they are steep.
    /// </summary>
    private static (double Low, double High) Range(OperandDomain domain) => domain switch
    {
        OperandDomain.Real => (-6, 6),
        OperandDomain.Positive => (0.05, 4),
        _ => throw new ArgumentOutOfRangeException(nameof(domain), domain, "no sampling range for this domain"),
    };

    private static Node Operand(CaseBuilder c, string name, long[] shape, OperandDomain domain)
    {
        var (low, high) = Range(domain);
        return c.Param(name, shape, low, high);
    }

    /// <summary>
    /// Every differentiable elementwise op of the catalog on every shape, with its operands drawn from
    /// its domains; then the cases that need more than that, written out: recip on its negative side,
    /// cast (its dtype attribute), detach (what it does to gradients), max's ties, and the comparisons
    /// (no gradient; values on a grid so that ties and equal pairs occur).
    /// </summary>
    public static IEnumerable<ConformanceCase> All()
    {
        var list = new CaseList();
        var differentiable = OpCatalog.All.Where(d => d.IsDifferentiableElementwise).ToList();
        foreach (var shape in UnaryShapes)
            foreach (var def in differentiable.Where(d => d.Arity == 1))
                list.Add(def.Name, CaseList.Dims(shape), c =>
                    c.OutputWithLoss(c.B.Apply(def.Code, OpAttrs.None, Operand(c, "x", shape, def.Domains![0]))));
        list.Add("recip", "negative[17,5]", c => c.OutputWithLoss(c.B.Recip(c.Param("x", [17, 5], -4, -0.25))));

        list.Add("cast", "f32-to-f32[17,65]", c => c.OutputWithLoss(c.B.Cast(c.Param("x", [17, 65]), Graph.Tensors.DType.F32)));
        list.Add("cast", "f32-to-i32-truncates[3,17]", c => c.Output(c.B.Cast(c.Param("x", [3, 17], -5, 5), Graph.Tensors.DType.I32)));
        list.Add("cast", "i32-to-f32[130]", c => c.Output(c.B.Cast(c.Indices("i", [130], -1000, 1000), Graph.Tensors.DType.F32)));
        list.Add("cast", "i32-to-f32-in-a-chain[5,7]", c =>
            c.OutputWithLoss(c.B.Mul(c.B.Cast(c.Indices("i", [5, 7], -9, 9), Graph.Tensors.DType.F32), c.Param("x", [5, 7]))));
        list.Add("detach", "forward[17,5]", c => c.Output(c.B.Detach(c.Param("x", [17, 5]))));
        // d/dx of detach(x)·x is detach(x): the gradient flows through one side only.
        list.Add("detach", "blocks-one-side[3,65]", c =>
        {
            var x = c.Param("x", [3, 65]);
            c.OutputWithLoss(c.B.Mul(c.B.Detach(x), x));
        });

        foreach (var (a, b) in BinaryShapes)
            foreach (var def in differentiable.Where(d => d.Arity == 2))
                list.Add(def.Name, CaseList.Dims(a) + "x" + CaseList.Dims(b), c => c.OutputWithLoss(
                    c.B.Apply(def.Code, OpAttrs.None, Operand(c, "a", a, def.Domains![0]), Operand(c, "b", b, def.Domains![1]))));
        // On a grid many pairs tie: the gradient must go to the first operand on every backend.
        list.Add("max", "ties[17,65]", c =>
            c.OutputWithLoss(c.B.Max(c.Param("a", [17, 65], c.Grid(17 * 65)), c.Param("b", [17, 65], c.Grid(17 * 65)))));

        foreach (var (a, b) in new (long[], long[])[] { ([17, 65], [17, 65]), ([4, 3, 5, 7], [4, 1, 5, 1]), ([], [130]), ([1], [1]) })
        {
            var d = CaseList.Dims(a) + "x" + CaseList.Dims(b);
            list.Add("greater", d, c => c.Output(c.B.Greater(c.Param("a", a, c.Grid(CaseBuilder.Count(a))), c.Param("b", b, c.Grid(CaseBuilder.Count(b))))));
            list.Add("equal", d, c => c.Output(c.B.Equal(c.Param("a", a, c.Grid(CaseBuilder.Count(a))), c.Param("b", b, c.Grid(CaseBuilder.Count(b))))));
        }
        return list;
    }
}
