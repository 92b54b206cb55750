namespace Dataflow.Engine.Frame;

/// <summary>
/// ZeRO stage 1 for a data-parallel step: each rank keeps and updates only the optimizer moments of
/// its shard of the parameters, then the updated parameters are gathered so every rank holds all of
/// them. <see cref="Optim.OptimizerShards"/> decides the shards; this is the collective it needs.
/// </summary>
public interface IOptimizerSharding
{
    int Rank { get; }
    int Size { get; }

    /// <summary>Overwrites <paramref name="data"/> on every rank with <paramref name="root"/>'s (an updated parameter, from its owner).</summary>
    void Broadcast(Span<float> data, int root);

    /// <summary>Rank r contributes counts[r] values, placed after those of the ranks before it, received by <paramref name="root"/> alone (the moments for its checkpoint); elsewhere <paramref name="receive"/> is unused.</summary>
    void Gather(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts, int root);
}
