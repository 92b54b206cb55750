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

    public static IEnumerable<ConformanceCase> All()
    {
        var list = new CaseList();
        foreach (var shape in UnaryShapes)
        {
            var d = CaseList.Dims(shape);
            list.Add("neg", d, c => c.OutputWithLoss(c.B.Neg(c.Param("x", shape))));
            list.Add("exp", d, c => c.OutputWithLoss(c.B.Exp(c.Param("x", shape, -4, 4))));
            list.Add("log", d, c => c.OutputWithLoss(c.B.Log(c.Param("x", shape, 0.05, 4))));
            list.Add("sqrt", d, c => c.OutputWithLoss(c.B.Sqrt(c.Param("x", shape, 0.05, 4))));
            list.Add("recip", d, c => c.OutputWithLoss(c.B.Recip(c.Param("x", shape, 0.25, 4))));
            list.Add("tanh", d, c => c.OutputWithLoss(c.B.Tanh(c.Param("x", shape, -4, 4))));
            list.Add("sin", d, c => c.OutputWithLoss(c.B.Sin(c.Param("x", shape, -7, 7))));
            list.Add("silu", d, c => c.OutputWithLoss(Graph.Dsl.Layers.Activations.Silu(c.B, c.Param("x", shape, -6, 6))));
        }
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
        {
            var d = CaseList.Dims(a) + "x" + CaseList.Dims(b);
            list.Add("add", d, c => c.OutputWithLoss(c.B.Add(c.Param("a", a), c.Param("b", b))));
            list.Add("sub", d, c => c.OutputWithLoss(c.B.Sub(c.Param("a", a), c.Param("b", b))));
            list.Add("mul", d, c => c.OutputWithLoss(c.B.Mul(c.Param("a", a), c.Param("b", b))));
            list.Add("div", d, c => c.OutputWithLoss(c.B.Div(c.Param("a", a), c.Param("b", b, 0.25, 4))));
            list.Add("max", d, c => c.OutputWithLoss(c.B.Max(c.Param("a", a), c.Param("b", b))));
        }
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
