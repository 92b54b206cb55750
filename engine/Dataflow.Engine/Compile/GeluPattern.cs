using Dataflow.Engine.Backends;
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
    public sealed record Match(LoadedTensor[] Stages, LoadedTensor[] Members, LoadedTensor[] Inputs, bool HasBias, float CubeScale, float InnerScale, float HalfScale, float One);

    /// <param name="withBias">Whether to take x's bias add in when x is one.</param>
    public static Match? TryMatch(TensorGraph graph, LoadedTensor root, bool withBias)
    {
        if (!Is(graph, root, OpCode.Mul, out var half, out var onePlus)) return null;
        if (!Is(graph, onePlus, OpCode.Add, out var one, out var tanh) || !one.IsScalarConstant) return null;
        if (!Is(graph, tanh, OpCode.Tanh, out var inner, out _)) return null;
        if (!Is(graph, inner, OpCode.Mul, out var innerScale, out var innerSum) || !innerScale.IsScalarConstant) return null;
        if (!Is(graph, innerSum, OpCode.Add, out var x, out var scaledCube)) return null;
        if (!Is(graph, scaledCube, OpCode.Mul, out var cubeScale, out var cube) || !cubeScale.IsScalarConstant) return null;
        if (!Is(graph, cube, OpCode.Mul, out var square, out var x2) || x2 != x) return null;
        if (!Is(graph, square, OpCode.Mul, out var x3, out var x4) || x3 != x || x4 != x) return null;
        if (!Is(graph, half, OpCode.Mul, out var halfScale, out var x5) || !halfScale.IsScalarConstant || x5 != x) return null;
        if (!IsRowMajor(x) || x.Rank < 1 || !root.SameShape(x)) return null;

        var stages = new LoadedTensor[(int)GeluStage.Output + 1];
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
        float k = (float)cubeScale.Value, c = (float)innerScale.Value, h = (float)halfScale.Value, o = (float)one.Value;
        var computed = stages[1..];
        if (withBias && BiasAdd(graph, x) is var (product, bias))
            return new Match(stages, [x, .. computed], [product, bias], true, k, c, h, o);
        return new Match(stages, computed, [x], false, k, c, h, o);
    }

    /// <summary>
    /// A backward match: every <see cref="GeluBackwardStage"/>'s node, the inputs g, x and tanh, and the forward's
    /// x², ½·x and 1 + tanh, which the kernel forms again from x and tanh instead of reading them.
    /// </summary>
    public sealed record BackwardMatch(LoadedTensor[] Stages, LoadedTensor[] Inputs, LoadedTensor[] Recomputed, float CubeScale, float InnerScale, float HalfScale, float One);

    /// <summary>The catalog's gradient of the forward chain (<see cref="GeluBackwardStage"/>), matched from dx upwards.</summary>
    public static BackwardMatch? TryMatchBackward(TensorGraph graph, LoadedTensor root)
    {
        if (!Is(graph, root, OpCode.Add, out var thirdSum, out var squareTermAgain)) return null;
        if (!Is(graph, squareTermAgain, OpCode.Mul, out var squareGrad, out var x)) return null;
        if (!Is(graph, thirdSum, OpCode.Add, out var secondSum, out var squareTerm)) return null;
        if (!Is(graph, squareTerm, OpCode.Mul, out var squareGrad2, out var x2) || squareGrad2 != squareGrad || x2 != x || squareTerm == squareTermAgain) return null;
        if (!Is(graph, secondSum, OpCode.Add, out var firstSum, out var cubeTerm)) return null;
        if (!Is(graph, cubeTerm, OpCode.Mul, out var cubeGrad, out var square)) return null;
        if (!Is(graph, square, OpCode.Mul, out var x3, out var x4) || x3 != x || x4 != x) return null;
        if (!Is(graph, squareGrad, OpCode.Mul, out var cubeGrad2, out var x5) || cubeGrad2 != cubeGrad || x5 != x) return null;
        if (!Is(graph, cubeGrad, OpCode.Mul, out var sumGrad, out var cubeScale) || !cubeScale.IsScalarConstant) return null;
        if (!Is(graph, firstSum, OpCode.Add, out var halfGrad, out var sumGrad2) || sumGrad2 != sumGrad) return null;
        if (!Is(graph, sumGrad, OpCode.Mul, out var innerGrad, out var innerScale) || !innerScale.IsScalarConstant) return null;
        if (!Is(graph, halfGrad, OpCode.Mul, out var gradTimesOnePlus, out var halfScale) || !halfScale.IsScalarConstant) return null;
        if (!Is(graph, innerGrad, OpCode.Mul, out var gradTimesHalf, out var oneMinus)) return null;
        if (!Is(graph, oneMinus, OpCode.Sub, out var one, out var tanhSquared) || !one.IsScalarConstant) return null;
        if (!Is(graph, tanhSquared, OpCode.Mul, out var tanh, out var tanh2) || tanh2 != tanh || tanh.Op != OpCode.Tanh) return null;
        if (!Is(graph, gradTimesHalf, OpCode.Mul, out var g, out var half)) return null;
        if (!Is(graph, gradTimesOnePlus, OpCode.Mul, out var g2, out var onePlus) || g2 != g) return null;
        // ½·x and 1 + tanh must be what the kernel forms again: the same constants over the same x and tanh.
        if (!Is(graph, half, OpCode.Mul, out var halfScale2, out var x6) || x6 != x || !halfScale2.IsScalarConstant || (float)halfScale2.Value != (float)halfScale.Value) return null;
        if (!Is(graph, onePlus, OpCode.Add, out var one2, out var tanh3) || tanh3 != tanh || !one2.IsScalarConstant || (float)one2.Value != (float)one.Value) return null;
        foreach (var input in new[] { g, x, tanh })
            if (!IsRowMajor(input) || !input.SameShape(root)) return null;

        var stages = new LoadedTensor[(int)GeluBackwardStage.Output + 1];
        stages[(int)GeluBackwardStage.GradTimesOnePlus] = gradTimesOnePlus;
        stages[(int)GeluBackwardStage.GradTimesHalf] = gradTimesHalf;
        stages[(int)GeluBackwardStage.TanhSquared] = tanhSquared;
        stages[(int)GeluBackwardStage.OneMinusTanhSquared] = oneMinus;
        stages[(int)GeluBackwardStage.InnerGrad] = innerGrad;
        stages[(int)GeluBackwardStage.HalfGrad] = halfGrad;
        stages[(int)GeluBackwardStage.SumGrad] = sumGrad;
        stages[(int)GeluBackwardStage.FirstSum] = firstSum;
        stages[(int)GeluBackwardStage.CubeGrad] = cubeGrad;
        stages[(int)GeluBackwardStage.SquareGrad] = squareGrad;
        stages[(int)GeluBackwardStage.CubeTerm] = cubeTerm;
        stages[(int)GeluBackwardStage.SecondSum] = secondSum;
        stages[(int)GeluBackwardStage.SquareTerm] = squareTerm;
        stages[(int)GeluBackwardStage.SquareTermAgain] = squareTermAgain;
        stages[(int)GeluBackwardStage.ThirdSum] = thirdSum;
        stages[(int)GeluBackwardStage.Output] = root;
        return new BackwardMatch(stages, [g, x, tanh], [square, half, onePlus], (float)cubeScale.Value, (float)innerScale.Value, (float)halfScale.Value, (float)one.Value);
    }

    /// <summary>x = a + bias with a as stored and bias a vector over x's last axis, or null.</summary>
    private static (LoadedTensor Product, LoadedTensor Bias)? BiasAdd(TensorGraph graph, LoadedTensor x)
    {
        if (!Is(graph, x, OpCode.Add, out var a, out var bias)) return null;
        bool isBias = bias.Op != OpCode.Expand && bias.DType == DType.F32 && bias.Rank == 1 && bias.Dim(0) == x.Dim(^1);
        return isBias && IsRowMajor(a) && a.SameShape(x) ? (a, bias) : null;
    }

    private static bool Is(TensorGraph graph, LoadedTensor node, OpCode op, out LoadedTensor a, out LoadedTensor b) => LayerNormPattern.Is(graph, node, op, out a, out b);

    /// <summary>An f32 tensor read as it is stored (a broadcast has no elements of its own).</summary>
    private static bool IsRowMajor(LoadedTensor node) => node.DType == DType.F32 && node.Op != OpCode.Expand;
}
