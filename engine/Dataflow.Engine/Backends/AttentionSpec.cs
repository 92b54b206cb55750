using System.Globalization;

namespace Dataflow.Engine.Backends;

/// <summary>
/// Scaled dot-product attention as one kernel, the chain the DSL's <c>attention</c> lowers to
/// (graph/Dataflow.Graph/Dsl/Layers/Attention.cs, <c>Attend</c>): for each of <see cref="BatchHeads"/>
/// (batch·head) slices, softmax(Q·Kᵀ·<see cref="Scale"/> [+ causal mask])·V over <see cref="Keys"/> keys
/// for <see cref="Queries"/> query rows of <see cref="Width"/>. Buffers: q [BH, T, w], k [BH, S, w],
/// v [BH, S, w], then the output [BH, T, w] and, with <see cref="WritesRowStatistics"/>, the row maximum
/// and the row sum of exp(score − maximum) [BH, T] each — the graph's own softmax max and Σ, which is all
/// the backward by recomputation needs (the T×S probabilities are never stored). Causal: key j is
/// visible to query i only when j ≤ i (the mask's −∞ elsewhere contributes exp(−∞) = 0, so skipping it is exact).
/// </summary>
public sealed record AttentionSpec(long BatchHeads, long Queries, long Keys, long Width, float Scale, bool Causal, bool WritesRowStatistics) : KernelSpec
{
    public override string DisplayName => "attention";

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"attention[{BatchHeads}x{Queries}x{Keys}x{Width}]{{scale {Scale:R}{(Causal ? ", causal" : "")}{(WritesRowStatistics ? ", stats" : "")}}}");
}

/// <summary>
/// The gradient of <see cref="AttentionSpec"/> by recomputation: buffers q, k, v, the forward output, its
/// incoming gradient dO, the row maximum and row sum the forward wrote, then dQ, dK, dV (the shapes of
/// q, k, v). The probabilities are formed again from q, k and the row statistics, one row at a time.
/// </summary>
public sealed record AttentionBackwardSpec(long BatchHeads, long Queries, long Keys, long Width, float Scale, bool Causal) : KernelSpec
{
    public override string DisplayName => "attention_backward";

    public override string Key => string.Create(CultureInfo.InvariantCulture,
        $"attention_backward[{BatchHeads}x{Queries}x{Keys}x{Width}]{{scale {Scale:R}{(Causal ? ", causal" : "")}}}");
}
