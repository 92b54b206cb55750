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
/// it (the backward pass reads x, x², ½·x, tanh and 1 + tanh).
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
