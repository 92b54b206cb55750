using System.Runtime.InteropServices;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Components;

/// <summary>
/// The entity lists of all components (a kernel's inputs, outputs and covered tensors, a tensor's
/// operands and readers), each a <see cref="ListRange"/> into one shared list. Made by
/// <see cref="Compile.GraphLoadSystem"/>. A span it hands out is valid until the next <see cref="Add"/>.
/// </summary>
public sealed class EntityList
{
    private readonly List<Entity> _entities = [];

    public ReadOnlySpan<Entity> this[ListRange range] => CollectionsMarshal.AsSpan(_entities).Slice(range.Start, range.Count);

    public ListRange Add(ReadOnlySpan<Entity> entities)
    {
        int start = _entities.Count;
        _entities.AddRange(entities);
        return new ListRange(start, entities.Length);
    }

    public ListRange Add(IEnumerable<Entity> entities)
    {
        int start = _entities.Count;
        _entities.AddRange(entities);
        return new ListRange(start, _entities.Count - start);
    }

    /// <summary>Replaces entry <paramref name="index"/> of <paramref name="range"/> (placement rewires a kernel to a copy).</summary>
    public void Set(ListRange range, int index, Entity entity)
    {
        if ((uint)index >= (uint)range.Count) throw new ArgumentOutOfRangeException(nameof(index));
        _entities[range.Start + index] = entity;
    }
}
