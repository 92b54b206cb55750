using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// Elementwise functions. Primitives keep their catalog name and semantics, and come from the
/// catalog (<see cref="OpDef.Dsl"/>: a function, or also an activation a layer may take by name), so
/// a new elementwise op needs no line here. Those without a primitive of their own (relu, sigmoid,
/// gelu) are composed from primitives so autodiff and fusion see only catalog ops. Given a plain
/// number, each computes a number instead (<c>sqrt(d)</c> in a scale factor).
/// </summary>
public static class Activations
{
    // The composed functions, all usable as activations; then the catalog's primitives with a DSL name.
    private static readonly (string Name, Func<GraphBuilder, Node, Node> Lower, Func<double, double> Numeric, bool IsActivation)[] Functions =
    [
        ("relu", Relu, x => Math.Max(x, 0), true),
        ("gelu", Gelu, x => 0.5 * x * (1 + Math.Tanh(GeluScale * (x + 0.044715 * x * x * x))), true),
        ("sigmoid", Sigmoid, x => 0.5 * (1 + Math.Tanh(0.5 * x)), true),
        .. OpCatalog.All.Where(d => d.Dsl != DslUse.None).Select(Primitive),
    ];

    public static IEnumerable<LayerDef> All => Functions.Select(f => Unary(f.Name, f.Lower, f.Numeric));

    /// <summary>The activations a layer may take by name (<c>act = gelu</c>).</summary>
    public static readonly string[] Names = [.. Functions.Where(f => f.IsActivation).Select(f => f.Name)];

    public static Node Apply(string name, GraphBuilder b, Node x)
    {
        foreach (var f in Functions)
            if (f.IsActivation && f.Name == name) return f.Lower(b, x);
        throw new ArgumentOutOfRangeException(nameof(name), name, "not an activation");
    }

    public static Node Relu(GraphBuilder b, Node x) => b.Max(x, b.Scalar(0));

    /// <summary>SiLU (swish), x·σ(x): a primitive of its own (<see cref="OpCode.Silu"/>), as the Llama family's MLPs use it.</summary>
    public static Node Silu(GraphBuilder b, Node x) => b.Apply(OpCode.Silu, OpAttrs.None, x);

    /// <summary>
    /// σ(x) = ½·(1 + tanh(x/2)), not 1/(1 + e^−x): there e^−x overflows to infinity for x below
    /// about −88 in float, and although the forward pass still gives 0, its gradient multiplies that
    /// infinity by 0 (NaN). tanh saturates to ±1 with a gradient 1 − tanh² that goes to 0, so both
    /// passes stay finite for any finite input.
    /// </summary>
    public static Node Sigmoid(GraphBuilder b, Node x) =>
        b.Add(b.Scalar(0.5), b.Mul(b.Scalar(0.5), b.Tanh(b.Mul(b.Scalar(0.5), x))));

    private static readonly double GeluScale = Math.Sqrt(2 / Math.PI);

    /// <summary>GELU, tanh approximation (as GPT-2): 0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))).</summary>
    public static Node Gelu(GraphBuilder b, Node x)
    {
        var cube = b.Mul(b.Mul(x, x), x);
        var inner = b.Mul(b.Scalar(GeluScale), b.Add(x, b.Mul(b.Scalar(0.044715), cube)));
        return b.Mul(b.Mul(b.Scalar(0.5), x), b.Add(b.Scalar(1), b.Tanh(inner)));
    }

    /// <summary>A primitive elementwise op under its catalog name; on a plain number, its catalog semantics.</summary>
    private static (string, Func<GraphBuilder, Node, Node>, Func<double, double>, bool) Primitive(OpDef def) =>
        (def.Name, (b, x) => b.Apply(def.Code, OpAttrs.None, x), x => def.Apply(x, 0, DType.F32), def.Dsl == DslUse.Activation);

    private static LayerDef Unary(string name, Func<GraphBuilder, Node, Node> lower, Func<double, double> numeric) =>
        new(name, ["x"], (args, c) =>
        {
            if (args.Raw("x") is NumberValue n)
            {
                var result = numeric(n.Number);
                return double.IsFinite(result) ? new NumberValue(result)
                    : throw args.Error("x", $"{name}({n.Number}) is not a finite number");
            }
            return new TensorValue(lower(c.Builder, args.Tensor("x")));
        });
}
