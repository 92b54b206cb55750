namespace Dataflow.Engine.Ecs;

/// <summary>
/// A handle to an entity. Ids are reused after destruction, so the version tells a live entity
/// from a stale handle to an earlier one with the same id. Live versions start at 1, which keeps
/// <see cref="Null"/> (the default value) from ever naming a live entity.
/// </summary>
public readonly record struct Entity(int Id, int Version)
{
    public static readonly Entity Null = default;

    public bool IsNull => this == Null;

    public override string ToString() => Id < 0 ? $"Entity(placeholder {-Id})" : $"Entity({Id} v{Version})";
}
