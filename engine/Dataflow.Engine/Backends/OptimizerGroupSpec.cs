using System.Collections.Immutable;

namespace Dataflow.Engine.Backends;

/// <summary>
/// One Adam or AdamW update over a whole set of parameters, as one launch instead of one per parameter
/// (a baby GPT has 50; each launch of a small vector paid a parallel loop of its own). Buffers: for each
/// parameter in order, its value, gradient, first and second moment. Weight decay (from the launch's
/// scalars, as for <see cref="OptimizerStepSpec"/>) applies to the parameters whose <see cref="Decays"/>
/// entry is set and is 0 for the rest. Each element gets the arithmetic of
/// <see cref="OptimizerStepSpec"/>, so the updates are those of the per-parameter kernels to the bit.
/// </summary>
public sealed record OptimizerGroupSpec(OptimizerKind Kind, ImmutableArray<long> Elements, ImmutableArray<bool> Decays) : KernelSpec
{
    public const int BuffersPerParameter = 4;

    public override string DisplayName => Kind.ToString().ToLowerInvariant() + "_group_step";

    public override string Key => $"{DisplayName}[{string.Join(",", Elements.Select((n, i) => Decays[i] ? $"{n}d" : $"{n}"))}]";

    /// <summary>The kinds a group runs: those with first and second moments.</summary>
    public static bool Groups(OptimizerKind kind) => kind is OptimizerKind.Adam or OptimizerKind.AdamW;
}
