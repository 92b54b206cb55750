namespace Dataflow.Engine.Ecs;

/// <summary>
/// All entities that have exactly one set of component types. Rows are kept dense: every chunk
/// but the last is full, so removal swaps the archetype's last row into the hole.
/// </summary>
public sealed class Archetype
{
    private const int ChunkBytes = 16 * 1024;

    private readonly int[] _columnOf; // component id -> column, -1 where absent
    private Chunk[] _chunks = new Chunk[1];
    private int _chunkCount;

    // Cached neighbours, so repeated Add<T>/Remove<T> of the same type skip the mask lookup.
    internal readonly Dictionary<int, Archetype> AddEdges = new();
    internal readonly Dictionary<int, Archetype> RemoveEdges = new();

    internal Archetype(ComponentMask mask)
    {
        Mask = mask;
        ComponentIds = mask.ToIds();
        Types = ComponentIds.Select(ComponentType.TypeOf).ToArray();
        _columnOf = new int[ComponentIds.Length == 0 ? 0 : ComponentIds[^1] + 1];
        Array.Fill(_columnOf, -1);
        int rowBytes = 8; // the entity handle
        for (int c = 0; c < ComponentIds.Length; c++)
        {
            _columnOf[ComponentIds[c]] = c;
            rowBytes += Math.Max(1, ComponentType.Get(ComponentIds[c]).Size);
        }
        ChunkCapacity = Math.Clamp(ChunkBytes / rowBytes, 16, 1024);
        HasReferences = ComponentIds.Select(id => ComponentType.Get(id).HasReferences).ToArray();
    }

    internal ComponentMask Mask { get; }

    internal int[] ComponentIds { get; }

    private bool[] HasReferences { get; }

    /// <summary>The component types, in component-id order.</summary>
    public IReadOnlyList<Type> Types { get; }

    public int ChunkCapacity { get; }

    public int ChunkCount => _chunkCount;

    public int EntityCount { get; private set; }

    /// <summary>The chunks in use; all are non-empty.</summary>
    public ReadOnlySpan<Chunk> Chunks => new(_chunks, 0, _chunkCount);

    public Chunk GetChunk(int index) => (uint)index < (uint)_chunkCount ? _chunks[index] : throw new ArgumentOutOfRangeException(nameof(index));

    public bool Has<T>() => ColumnOf(ComponentType<T>.Id) >= 0;

    internal int ColumnOf(int componentId) => (uint)componentId < (uint)_columnOf.Length ? _columnOf[componentId] : -1;

    /// <summary>Appends a row for <paramref name="entity"/>; its component values are left default.</summary>
    internal (int Chunk, int Row) AddRow(Entity entity)
    {
        if (_chunkCount == 0 || _chunks[_chunkCount - 1].Count == ChunkCapacity)
        {
            if (_chunkCount == _chunks.Length) Array.Resize(ref _chunks, _chunks.Length * 2);
            // A chunk emptied earlier is kept for reuse, so churn at a boundary does not allocate.
            _chunks[_chunkCount] ??= new Chunk(this, ChunkCapacity);
            _chunkCount++;
        }
        var chunk = _chunks[_chunkCount - 1];
        int row = chunk.Count++;
        chunk.EntityArray[row] = entity;
        EntityCount++;
        return (_chunkCount - 1, row);
    }

    /// <summary>
    /// Removes a row by moving the archetype's last row into it. Returns the entity that moved
    /// (whose location the caller must update), or <see cref="Entity.Null"/> when none did.
    /// </summary>
    internal Entity RemoveRow(int chunkIndex, int row)
    {
        var last = _chunks[_chunkCount - 1];
        int lastRow = last.Count - 1;
        var chunk = _chunks[chunkIndex];
        var moved = Entity.Null;
        if (chunk != last || row != lastRow)
        {
            moved = last.EntityArray[lastRow];
            chunk.EntityArray[row] = moved;
            for (int c = 0; c < ComponentIds.Length; c++) Array.Copy(last.Columns[c], lastRow, chunk.Columns[c], row, 1);
        }
        // Clear the vacated row so references held by components do not outlive the entity.
        last.EntityArray[lastRow] = default;
        for (int c = 0; c < ComponentIds.Length; c++)
            if (HasReferences[c]) Array.Clear(last.Columns[c], lastRow, 1);
        last.Count--;
        EntityCount--;
        if (last.Count == 0) _chunkCount--;
        return moved;
    }

    internal void Clear()
    {
        for (int i = 0; i < _chunkCount; i++)
        {
            var chunk = _chunks[i];
            Array.Clear(chunk.EntityArray);
            foreach (var column in chunk.Columns) Array.Clear(column);
            chunk.Count = 0;
        }
        _chunkCount = 0;
        EntityCount = 0;
    }

    public override string ToString() => "[" + string.Join(", ", Types.Select(t => t.Name)) + "]";
}
