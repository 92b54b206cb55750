using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// Elementwise functions. Primitives (tanh, silu, exp, log, sqrt) keep their catalog name and
/// semantics; those without a primitive of their own (relu, sigmoid, gelu) are composed
/// from primitives so autodiff and fusion see only catalog ops. Given a plain number, each computes
/// a number instead (<c>sqrt(d)</c> in a scale factor).
/// </summary>
public static class Activations
{
    public static IEnumerable<LayerDef> All =>
    [
        Unary("relu", Relu, x => Math.Max(x, 0)),
        Unary("sigmoid", Sigmoid, x => 0.5 * (1 + Math.Tanh(0.5 * x))),
        Unary("gelu", Gelu, x => 0.5 * x * (1 + Math.Tanh(GeluScale * (x + 0.044715 * x * x * x)))),
        Primitive(OpCode.Tanh),
        Primitive(OpCode.Silu),
        Primitive(OpCode.Exp),
        Primitive(OpCode.Log),
        Primitive(OpCode.Sqrt),
    ];

    // The activations a layer may take by name, in one table so the names and their lowering cannot drift apart.
    private static readonly (string Name, Func<GraphBuilder, Node, Node> Lower)[] ByName =
    [
        ("relu", Relu),
        ("gelu", Gelu),
        ("sigmoid", Sigmoid),
        ("tanh", (b, x) => b.Tanh(x)),
        ("silu", Silu),
    ];

    /// <summary>The activations a layer may take by name (<c>act = gelu</c>).</summary>
    public static readonly string[] Names = [.. ByName.Select(a => a.Name)];

    public static Node Apply(string name, GraphBuilder b, Node x)
    {
        foreach (var (known, lower) in ByName)
            if (known == name) return lower(b, x);
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
    private static LayerDef Primitive(OpCode code)
    {
        var def = OpCatalog.Get(code);
        return Unary(def.Name, (b, x) => b.Apply(code, OpAttrs.None, x), x => def.Apply(x, 0, DType.F32));
    }

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
