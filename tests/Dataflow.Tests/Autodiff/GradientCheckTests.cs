using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Autodiff;

/// <summary>
/// Every differentiable primitive's gradient rule against central finite differences, run through
/// the whole engine (autodiff, fusion, memory planning, CPU kernels). The loss is Σ op(x)·R with a
/// fixed random R, so every output element sends back a different upstream gradient.
/// </summary>
public sealed class GradientCheckTests
{
    private delegate Node OpUnderTest(GraphBuilder b, Node[] inputs);

    private sealed record Operand(long[] Shape, double Low = -1, double High = 1);

    private static void Check(OpUnderTest op, params Operand[] operands)
    {
        var graph = new ComputeGraph("gradcheck");
        var b = new GraphBuilder(graph);
        var inputs = operands.Select((o, i) => TestGraphs.Param(b, $"x{i}", o.Shape)).ToArray();
        var y = op(b, inputs);
        var weights = b.Constant(TestGraphs.RandomValues(99, TestGraphs.Elements(y.Shape)), y.Shape);
        graph.Loss = b.ReduceSum(b.Mul(y, weights), Enumerable.Range(0, y.Shape.Rank));

        var values = operands.Select((o, i) => (Name: $"x{i}", Data: TestGraphs.RandomValues(i + 1, o.Shape.Aggregate(1L, (a, c) => a * c), o.Low, o.High)))
            .ToDictionary(v => v.Name, v => v.Data);
        FiniteDifference.Check(graph, values);
    }

    private static readonly long[] Matrix = [3, 4];

    /// <summary>
    /// Where the checks sample an operand of each domain: narrower than the conformance suite's, as a
    /// step of 1e-2 in float32 must resolve the curvature (log and recip stay well away from 0).
    /// </summary>
    private static Operand For(long[] shape, OperandDomain domain) => domain switch
    {
        OperandDomain.Real => new Operand(shape),
        OperandDomain.Positive => new Operand(shape, 0.5, 2),
        _ => throw new ArgumentOutOfRangeException(nameof(domain), domain, "no sampling range for this domain"),
    };

    public static TheoryData<OpCode> DifferentiableElementwise() =>
        [.. OpCatalog.All.Where(d => d.IsDifferentiableElementwise).Select(d => d.Code)];

    /// <summary>Every differentiable elementwise op of the catalog, its operands drawn from its domains.</summary>
    [Theory]
    [MemberData(nameof(DifferentiableElementwise))]
    public void Elementwise(OpCode op) =>
        Check((b, x) => b.Apply(op, OpAttrs.None, x), [.. OpCatalog.Get(op).Domains!.Select(d => For(Matrix, d))]);

    // Cast has no domain of its own (its operand's dtype follows its attribute): its f32 → f32 form, written out.
    [Fact] public void Cast() => Check((b, x) => b.Cast(x[0], DType.F32), new Operand(Matrix));

    [Fact] public void AddBroadcastsRowVector() => Check((b, x) => b.Add(x[0], x[1]), new Operand([2, 3, 4]), new Operand([4]));
    [Fact] public void MulBroadcastsColumn() => Check((b, x) => b.Mul(x[0], x[1]), new Operand([2, 3, 4]), new Operand([3, 1]));
    [Fact] public void DivBroadcastsLeadingAxis() => Check((b, x) => b.Div(x[0], x[1]), new Operand([2, 3]), new Operand([1, 3], 0.5, 2));
    [Fact] public void SubBroadcastsScalar() => Check((b, x) => b.Sub(x[0], x[1]), new Operand([2, 3]), new Operand([]));

    [Fact] public void ReduceSumLastAxis() => Check((b, x) => b.ReduceSum(x[0], [-1]), new Operand([2, 3, 4]));
    [Fact] public void ReduceSumLeadingAxesKeepDims() => Check((b, x) => b.ReduceSum(x[0], [0, 1], keepDims: true), new Operand([2, 3, 4]));
    [Fact] public void ReduceSumMiddleAxis() => Check((b, x) => b.ReduceSum(x[0], [1]), new Operand([2, 3, 4]));
    [Fact] public void ReduceMax() => Check((b, x) => b.ReduceMax(x[0], [-1], keepDims: true), new Operand([3, 5]));
    [Fact] public void ReduceMaxLeadingAxis() => Check((b, x) => b.ReduceMax(x[0], [0]), new Operand([4, 3]));

    [Fact] public void Reshape() => Check((b, x) => b.Mul(b.Reshape(x[0], Shape.Of(4, 3)), b.Reshape(x[0], Shape.Of(4, 3))), new Operand(Matrix));
    [Fact] public void Permute() => Check((b, x) => b.Permute(x[0], [2, 0, 1]), new Operand([2, 3, 4]));
    [Fact] public void Expand() => Check((b, x) => b.Expand(x[0], Shape.Of(2, 3, 4)), new Operand([3, 1]));

    [Theory]
    [InlineData(false, false)]
    [InlineData(false, true)]
    [InlineData(true, false)]
    [InlineData(true, true)]
    public void MatMul(bool transposeA, bool transposeB) => Check(
        (b, x) => b.MatMul(x[0], x[1], transposeA, transposeB),
        new Operand(transposeA ? [4, 3] : [3, 4]),
        new Operand(transposeB ? [5, 4] : [4, 5]));

    [Fact] public void MatMulBroadcastsBatch() => Check((b, x) => b.MatMul(x[0], x[1]), new Operand([2, 3, 4]), new Operand([4, 5]));
    [Fact] public void MatMulBatched() => Check((b, x) => b.MatMul(x[0], x[1], transposeB: true), new Operand([2, 3, 4]), new Operand([2, 5, 4]));

    [Fact]
    public void GatherScattersIntoTheTable() => Check((b, x) =>
    {
        var index = b.Cast(b.Constant([2, 0, 2, 1, 4], Shape.Of(5)), DType.I32);
        return b.Gather(x[0], index);
    }, new Operand([5, 3]));

    [Fact]
    public void ScatterAddGathersBack() => Check((b, x) =>
    {
        var index = b.Cast(b.Constant([1, 0, 1, 3], Shape.Of(4)), DType.I32);
        return b.ScatterAdd(x[0], index, 5);
    }, new Operand([4, 3]));

    [Fact]
    public void DetachBlocksTheGradient()
    {
        var graph = new ComputeGraph("detach");
        var b = new GraphBuilder(graph);
        var (x, y) = (TestGraphs.Param(b, "x", 3), TestGraphs.Param(b, "y", 3));
        graph.Loss = b.ReduceSum(b.Mul(x, b.Detach(y)), [0]);
        var training = StepGraph.ForTraining(graph, withGradNorm: false);
        Assert.Contains("x", training.Gradients.Keys);
        Assert.DoesNotContain("y", training.Gradients.Keys);
    }
}
