namespace Dataflow.Engine.Ecs;

/// <summary>
/// A system that records its structural changes (create, add, remove, destroy) in its own
/// <see cref="CommandBuffer"/> instead of making them: the schedule plays the buffer back after the
/// batch the system ran in (Bevy's commands), so the system may share a parallel batch.
/// </summary>
public interface IDeferredChanges
{
    CommandBuffer Commands { get; }
}
