namespace Dataflow.Engine.Ecs;

/// <summary>The component types a system reads and writes (writing implies reading).</summary>
public sealed record SystemAccess(IReadOnlyList<Type> Reads, IReadOnlyList<Type> Writes)
{
    public static SystemAccess None { get; } = new([], []);

    public static SystemAccess Of(IReadOnlyList<Type>? reads = null, IReadOnlyList<Type>? writes = null) => new(reads ?? [], writes ?? []);

    /// <summary>Whether the two may not run at the same time: one writes what the other reads or writes.</summary>
    public bool ConflictsWith(SystemAccess other) =>
        Writes.Any(t => other.Writes.Contains(t) || other.Reads.Contains(t)) || other.Writes.Any(Reads.Contains);
}
