namespace Dataflow.Engine.Ecs;

/// <summary>
/// The component and resource types a system reads and writes (writing implies reading).
/// <see cref="Reads"/> are read as the stage's writers leave them in this run, so the system runs
/// after those writers. <see cref="ReadsPrevious"/> are read as the previous run of the stage left
/// them (the state a loop carries from one frame to the next), so the system runs before every
/// other system of its stage that writes them. A type only in <see cref="Writes"/> is updated in
/// place and orders nothing by itself.
/// </summary>
public sealed record SystemAccess(IReadOnlyList<Type> Reads, IReadOnlyList<Type> Writes)
{
    public static SystemAccess None { get; } = new([], []);

    /// <summary>Types read as the previous run of the stage left them: this system runs before their other writers.</summary>
    public IReadOnlyList<Type> ReadsPrevious { get; init; } = [];

    public static SystemAccess Of(IReadOnlyList<Type>? reads = null, IReadOnlyList<Type>? writes = null, IReadOnlyList<Type>? readsPrevious = null) =>
        new(reads ?? [], writes ?? []) { ReadsPrevious = readsPrevious ?? [] };

    /// <summary>Whether the two may not run at the same time: one writes what the other reads or writes.</summary>
    public bool ConflictsWith(SystemAccess other) =>
        Writes.Any(t => other.Writes.Contains(t) || other.Reads.Contains(t) || other.ReadsPrevious.Contains(t)) ||
        other.Writes.Any(t => Reads.Contains(t) || ReadsPrevious.Contains(t));
}
