using System.Runtime.CompilerServices;

namespace Dataflow.Engine.Ecs;

/// <summary>
/// A fixed-capacity block of rows of one archetype: the entities, and one array per component
/// type (structure of arrays), so a loop over one component walks contiguous memory.
/// </summary>
public sealed class Chunk
{
    internal readonly Entity[] EntityArray;
    internal readonly Array[] Columns;

    internal Chunk(Archetype archetype, int capacity)
    {
        Archetype = archetype;
        EntityArray = new Entity[capacity];
        var ids = archetype.ComponentIds;
        Columns = new Array[ids.Length];
        for (int c = 0; c < ids.Length; c++) Columns[c] = ComponentType.Get(ids[c]).NewArray(capacity);
    }

    public Archetype Archetype { get; }

    public int Count { get; internal set; }

    public int Capacity => EntityArray.Length;

    public ReadOnlySpan<Entity> Entities => new(EntityArray, 0, Count);

    public bool Has<T>() => Archetype.ColumnOf(ComponentType<T>.Id) >= 0;

    /// <summary>The <typeparamref name="T"/> values of this chunk's rows, in the order of <see cref="Entities"/>.</summary>
    public Span<T> GetSpan<T>()
    {
        int column = Archetype.ColumnOf(ComponentType<T>.Id);
        if (column < 0)
            throw new InvalidOperationException($"This chunk's archetype {Archetype} has no {typeof(T).Name} component.");
        return GetSpan<T>(column);
    }

    // Columns are created as exactly T[] for the type registered at that column, so the unchecked
    // cast is sound, and it keeps a type check out of every chunk visit.
    internal Span<T> GetSpan<T>(int column) => new(Unsafe.As<T[]>(Columns[column]), 0, Count);

    internal ref T GetRef<T>(int column, int row) => ref Unsafe.As<T[]>(Columns[column])[row];
}
