using Dataflow.Engine.Backends;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Recognises the primitives that the DSL's tanh-GELU lowers to (graph/Dataflow.Graph/Dsl/Layers/Activations.cs,
/// <c>Gelu</c>), matched from the final product upwards:
/// <code>
/// y = (½ · x) · (1 + tanh(c · (x + k · ((x · x) · x))))
/// </code>
/// optionally with x = a + bias, the bias add of the linear layer before it (a bias vector over the last
/// axis, read as it is stored), so the activation reads the matrix product once. Anything else (other
/// operand orders, a broadcast x) is left to the elementwise fusion, which computes it in more passes.
/// </summary>
internal static class GeluPattern
{
    /// <summary>A match: the node of every <see cref="GeluStage"/> (Biased is x itself when there is no bias), the constants, and the inputs.</summary>
    public sealed record Match(Node[] Stages, Node[] Members, Node[] Inputs, bool HasBias, float CubeScale, float InnerScale, float HalfScale, float One);

    /// <param name="withBias">Whether to take x's bias add in when x is one.</param>
    public static Match? TryMatch(TensorGraph graph, Node root, bool withBias)
    {
        if (!Is(graph, root, OpCode.Mul, out var half, out var onePlus)) return null;
        if (!Is(graph, onePlus, OpCode.Add, out var one, out var tanh) || !IsScalarConstant(one)) return null;
        if (!Is(graph, tanh, OpCode.Tanh, out var inner, out _)) return null;
        if (!Is(graph, inner, OpCode.Mul, out var innerScale, out var innerSum) || !IsScalarConstant(innerScale)) return null;
        if (!Is(graph, innerSum, OpCode.Add, out var x, out var scaledCube)) return null;
        if (!Is(graph, scaledCube, OpCode.Mul, out var cubeScale, out var cube) || !IsScalarConstant(cubeScale)) return null;
        if (!Is(graph, cube, OpCode.Mul, out var square, out var x2) || x2 != x) return null;
        if (!Is(graph, square, OpCode.Mul, out var x3, out var x4) || x3 != x || x4 != x) return null;
        if (!Is(graph, half, OpCode.Mul, out var halfScale, out var x5) || !IsScalarConstant(halfScale) || x5 != x) return null;
        if (!IsRowMajor(x) || x.Shape.Rank < 1 || !root.Shape.Equals(x.Shape)) return null;

        var stages = new Node[(int)GeluStage.Output + 1];
        stages[(int)GeluStage.Biased] = x;
        stages[(int)GeluStage.Square] = square;
        stages[(int)GeluStage.Cube] = cube;
        stages[(int)GeluStage.ScaledCube] = scaledCube;
        stages[(int)GeluStage.InnerSum] = innerSum;
        stages[(int)GeluStage.Inner] = inner;
        stages[(int)GeluStage.Half] = half;
        stages[(int)GeluStage.Tanh] = tanh;
        stages[(int)GeluStage.OnePlus] = onePlus;
        stages[(int)GeluStage.Output] = root;
        float k = Value(cubeScale), c = Value(innerScale), h = Value(halfScale), o = Value(one);
        var computed = stages[1..];
        if (withBias && BiasAdd(graph, x) is var (product, bias))
            return new Match(stages, [x, .. computed], [product, bias], true, k, c, h, o);
        return new Match(stages, computed, [x], false, k, c, h, o);
    }

    /// <summary>x = a + bias with a as stored and bias a vector over x's last axis, or null.</summary>
    private static (Node Product, Node Bias)? BiasAdd(TensorGraph graph, Node x)
    {
        if (!Is(graph, x, OpCode.Add, out var a, out var bias)) return null;
        bool isBias = bias.Op != OpCode.Expand && bias.DType == DType.F32 && bias.Shape.Rank == 1 && bias.Shape[0].Equals(x.Shape[x.Shape.Rank - 1]);
        return isBias && IsRowMajor(a) && a.Shape.Equals(x.Shape) ? (a, bias) : null;
    }

    private static bool Is(TensorGraph graph, Node node, OpCode op, out Node a, out Node b) => LayerNormPattern.Is(graph, node, op, out a, out b);

    /// <summary>An f32 tensor read as it is stored (a broadcast has no elements of its own).</summary>
    private static bool IsRowMajor(Node node) => node.DType == DType.F32 && node.Op != OpCode.Expand;

    private static bool IsScalarConstant(Node node) =>
        node.Op == OpCode.Constant && node.Attrs.Data is null && node.Attrs.Count is null && node.Shape.Rank == 0;

    private static float Value(Node constant) => (float)constant.Attrs.Value;
}
