using Dataflow.Graph.Tensors;

namespace Dataflow.Conformance.Cases;

/// <summary>
/// Leaves computed on the device: constants (scalar, tensor, a bound dimension's value), iota,
/// the causal mask (its -inf must match exactly) and dropout masks (counter-based, so every backend
/// must draw the very same mask from the same seed).
/// </summary>
internal static class LeafCases
{
    public static IEnumerable<ConformanceCase> All()
    {
        var list = new CaseList
        {
            // A scalar constant that is itself an output is materialised by a kernel rather than folded into one.
            { "constant", "scalar-output", c => c.Output(c.B.Scalar(2.5)) },
            { "constant", "tensor[3,17]", c => c.Output(c.B.Constant(c.Uniform(51), Shape.Of(3, 17))) },
            { "constant", "tensor-in-a-chain[3,17]", c => c.OutputWithLoss(c.B.Add(c.B.Constant(c.Uniform(51), Shape.Of(3, 17)), c.Param("x", [3, 17]))) },
            { "constant", "bound-dimension", c => { c.Bindings["T"] = 17; c.Output(c.B.DimValue(Dim.Symbol("T"))); } },
            { "constant", "bound-dimension-in-a-mean", c =>
                {
                    c.Bindings["T"] = 65;
                    c.OutputWithLoss(c.B.Div(c.B.ReduceSum(c.Param("x", [3, 65]), [1]), c.B.DimValue(Dim.Symbol("T"))));
                } },
            { "iota", "[1]", c => c.Output(c.B.Iota(1)) },
            { "iota", "[17]", c => c.Output(c.B.Iota(17)) },
            { "iota", "[130]-symbolic", c => { c.Bindings["T"] = 130; c.Output(c.B.Iota(Dim.Symbol("T"))); } },
            { "causal_mask", "[1,1]", c => c.Output(c.B.CausalMask(1)) },
            { "causal_mask", "[3,3]", c => c.Output(c.B.CausalMask(3)) },
            { "causal_mask", "[65,65]-symbolic", c => { c.Bindings["T"] = 65; c.Output(c.B.CausalMask(Dim.Symbol("T"))); } },
            // Masked attention scores: -inf + x stays -inf, and softmax-style use must agree.
            { "causal_mask", "added-to-scores[17,17]", c => c.OutputWithLoss(c.B.Exp(c.B.Add(c.Param("s", [17, 17]), c.B.CausalMask(17)))) },
        };
        foreach (var (shape, p) in new (long[], double)[] { ([17, 65], 0.1), ([1], 0.5), ([2, 3, 5, 7], 0.9) })
            list.Add(new ConformanceCase($"dropout_mask/{CaseList.Dims(shape)}-p{p}", "dropout_mask", c => c.Output(c.B.DropoutMask(Shape.Of(shape), p)))
            {
                CheckReferenceInDouble = false,
            });
        list.Add(new ConformanceCase("dropout_mask/applied[3,130]-p0.25", "dropout_mask", c =>
        {
            var x = c.Param("x", [3, 130]);
            c.OutputWithLoss(c.B.Mul(x, c.B.DropoutMask(Shape.Of(3, 130), 0.25)));
        }) { CheckReferenceInDouble = false });
        return list;
    }
}
