using System.Collections.Immutable;
using System.Globalization;

namespace Dataflow.Engine.Backends;

/// <summary>
/// The values the DSL's tanh-GELU forms (graph/Dataflow.Graph/Dsl/Layers/Activations.cs, <c>Gelu</c>),
/// in the order the lowered graph forms them, after the optional bias add of the linear layer before it:
/// <code>
/// x = a + bias;  x², x³ = x²·x, k·x³, x + k·x³, inner = c·(x + k·x³), ½·x, tanh(inner), 1 + tanh, ½·x·(1 + tanh)
/// </code>
/// Every stage holds one value per element. A fused kernel writes out whichever of them is read outside
/// it (the unfused backward reads x, x², ½·x, tanh and 1 + tanh; <see cref="GeluBackwardSpec"/> only x and tanh).
/// </summary>
public enum GeluStage : byte
{
    Biased, Square, Cube, ScaledCube, InnerSum, Inner, Half, Tanh, OnePlus, Output,
}

/// <summary>
/// tanh-GELU as one kernel over <see cref="Rows"/> rows of <see cref="Width"/>. Buffers: x (or, when
/// <see cref="HasBias"/>, the matrix product a and the bias vector over the last axis), then one per
/// entry of <see cref="Outputs"/>. The four constants are the graph's own as float, so a backend that
/// forms each stage with the float operation its unfused kernels use (tanh as its tanh kernel forms it)
/// matches the unfused ops bit for bit.
/// </summary>
public sealed record GeluSpec(long Rows, long Width, bool HasBias, float CubeScale, float InnerScale, float HalfScale, float One,
    ImmutableArray<GeluStage> Outputs) : KernelSpec
{
    public override string DisplayName => "gelu";

    public long Elements => Rows * Width;

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"gelu[{Rows}x{Width}{(HasBias ? "+bias" : "")}]{{k {CubeScale:R}, c {InnerScale:R}, h {HalfScale:R}, one {One:R}; out {string.Join(",", Outputs)}}}");
}

/// <summary>
/// The gradient of that tanh-GELU as the catalog's rules build it, in graph order, from the incoming
/// gradient g (t = tanh, d = 1 − t², u = g·½x·d·c, v = u·k):
/// <code>
/// dx = ((g·(1 + t)·½ + u) + v·x²) + (v·x)·x + (v·x)·x
/// </code>
/// (the product rule of ½x·(1 + t), tanh's 1 − t², the constants' products, x³ = x²·x and x² = x·x,
/// each of x's five terms added in the order the differentiator met them).
/// </summary>
public enum GeluBackwardStage : byte
{
    GradTimesOnePlus, GradTimesHalf, TanhSquared, OneMinusTanhSquared, InnerGrad, HalfGrad, SumGrad, FirstSum,
    CubeGrad, SquareGrad, CubeTerm, SecondSum, SquareTerm, SquareTermAgain, ThirdSum, Output,
}

/// <summary>
/// tanh-GELU backward as one kernel: buffers g, x and tanh (x², ½·x and 1 + tanh are formed again from
/// them with the same float operations), then one per entry of <see cref="Outputs"/> (dx first). The
/// constants are the graph's own as float.
/// </summary>
public sealed record GeluBackwardSpec(long Elements, float CubeScale, float InnerScale, float HalfScale, float One,
    ImmutableArray<GeluBackwardStage> Outputs) : KernelSpec
{
    public override string DisplayName => "gelu_backward";

    /// <summary>Whether dx is all the kernel writes (no other stage is read outside it), the only form the CPU kernel has.</summary>
    public bool WritesOnlyOutput => Outputs is [GeluBackwardStage.Output];

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"gelu_backward[{Elements}]{{k {CubeScale:R}, c {InnerScale:R}, h {HalfScale:R}, one {One:R}; out {string.Join(",", Outputs)}}}");
}
