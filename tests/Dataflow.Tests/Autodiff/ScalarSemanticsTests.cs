using Dataflow.Graph.Evaluation;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Autodiff;

/// <summary>
/// The catalog's scalar semantics hold together: every elementwise op has them, each unary op's
/// scalar derivative matches central differences of its scalar function, and its gradient rule
/// (graph) evaluates to that derivative.
/// </summary>
public sealed class ScalarSemanticsTests
{
    public static TheoryData<OpCode> Differentiable() =>
        [.. OpCatalog.All.Where(d => d.IsElementwise && d.Arity == 1 && d.Derivative is not null).Select(d => d.Code)];

    private static readonly double[] Points = [-3.1, -1.2, -0.4, 0.3, 0.9, 2.2, 5.7];

    /// <summary>The points in the op's domain (the catalog's): all of them, or their magnitudes for a positive-only op.</summary>
    private static IEnumerable<double> Domain(OpCode op) => OpCatalog.Get(op).Domains![0] switch
    {
        OperandDomain.Real => Points,
        OperandDomain.Positive => Points.Select(Math.Abs),
        var domain => throw new ArgumentOutOfRangeException(nameof(op), domain, "no sample points for this domain"),
    };

    [Fact]
    public void EveryElementwiseOpHasScalarSemantics()
    {
        var missing = OpCatalog.All.Where(d => d.IsElementwise && d.Scalar is null).Select(d => d.Name).ToList();
        Assert.True(missing.Count == 0, "elementwise ops without scalar semantics: " + string.Join(", ", missing));
        Assert.All(OpCatalog.All.Where(d => !d.IsElementwise), d => Assert.Null(d.Scalar));
    }

    [Fact]
    public void EveryElementwiseOpOnFloatsHasOneDomainPerOperand()
    {
        foreach (var def in OpCatalog.All.Where(d => d.IsElementwise && d.Code != OpCode.Cast))
            Assert.True(def.Domains?.Count == def.Arity, $"{def.Name}: {def.Domains?.Count.ToString() ?? "no"} domains for {def.Arity} operands");
        Assert.All(OpCatalog.All.Where(d => !d.IsElementwise), d => Assert.Null(d.Domains));
    }

    [Fact]
    public void SiluIsXTimesSigmoid()
    {
        var silu = OpCatalog.Get(OpCode.Silu);
        foreach (var x in Points)
            Assert.Equal(x / (1 + Math.Exp(-x)), silu.Apply(x, 0, DType.F32), 14);
        Assert.Equal(0, silu.Apply(-800, 0, DType.F32), 14); // e^800 overflows to ∞: the limit, not NaN
        Assert.Equal(800, silu.Apply(800, 0, DType.F32), 10);
    }

    [Theory]
    [MemberData(nameof(Differentiable))]
    public void DerivativeMatchesCentralDifferences(OpCode op)
    {
        var def = OpCatalog.Get(op);
        const double h = 1e-6;
        foreach (var x in Domain(op))
        {
            var numeric = (def.Apply(x + h, 0, DType.F32) - def.Apply(x - h, 0, DType.F32)) / (2 * h);
            Assert.True(Math.Abs(numeric - def.Derivative!(x)) <= 1e-6 * Math.Max(1, Math.Abs(numeric)),
                $"{def.Name}'({x}): central differences {numeric}, catalog {def.Derivative!(x)}");
        }
    }

    [Theory]
    [MemberData(nameof(Differentiable))]
    public void GradientRuleEvaluatesToTheDerivative(OpCode op)
    {
        var def = OpCatalog.Get(op);
        var xs = Domain(op).ToArray();
        var graph = new ComputeGraph("derivative");
        var b = new GraphBuilder(graph);
        var x = b.Input("x", new TensorType(DType.F32, Shape.Of(xs.Length)));
        var y = b.Apply(op, OpAttrs.None, x);
        var upstream = b.Input("g", new TensorType(DType.F32, Shape.Of(xs.Length)));
        var dx = def.Gradient!(b, y, upstream)[0]!;

        var evaluator = new ReferenceEvaluator(new Dictionary<string, long>(), (node, _) =>
            node.Attrs.Name == "x" ? xs : Enumerable.Repeat(1.0, xs.Length).ToArray());
        var got = evaluator.Evaluate(dx).Data;
        // Graph constants are f32 (sin's gradient adds π/2 rounded to float), so agreement is to ~1e-7, not 1e-15.
        for (int i = 0; i < xs.Length; i++)
            Assert.True(Math.Abs(got[i] - def.Derivative!(xs[i])) <= 1e-6 * Math.Max(1, Math.Abs(got[i])),
                $"{def.Name}: the gradient rule gives {got[i]} at {xs[i]}, the derivative {def.Derivative!(xs[i])}");
    }
}
