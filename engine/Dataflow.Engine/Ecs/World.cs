namespace Dataflow.Engine.Ecs;

/// <summary>
/// Entities and their components, stored per archetype in chunks. Not thread-safe for
/// structural changes (create, add, remove, destroy); those are refused while any query
/// iteration or parallel schedule batch is running, and belong in a <see cref="CommandBuffer"/>.
/// Reading and writing component values through <see cref="Get{T}"/> or spans is fine anywhere.
/// </summary>
public sealed partial class World : IDisposable
{
    private struct Slot
    {
        public Archetype? Archetype; // null while the id is free
        public int Chunk;
        public int Row;
        public int Version;
    }

    private Slot[] _slots = new Slot[256];
    private int _nextId;
    private int[] _free = new int[64];
    private int _freeCount;
    private readonly Dictionary<ComponentMask, Archetype> _archetypes = new();
    private readonly Dictionary<QueryDescription, Query> _queries = new();
    private readonly Archetype _empty;
    private int _iterating;

    public World()
    {
        _empty = GetOrCreateArchetype(default);
    }

    public int EntityCount { get; private set; }

    internal List<Archetype> ArchetypeList { get; } = new();

    public IReadOnlyList<Archetype> Archetypes => ArchetypeList;

    public Entity Create()
    {
        ThrowIfIterating(nameof(Create));
        return Allocate(_empty, out _, out _);
    }

    public bool IsAlive(Entity entity) =>
        (uint)entity.Id < (uint)_nextId && _slots[entity.Id].Archetype is not null && _slots[entity.Id].Version == entity.Version;

    public bool Has<T>(Entity entity) => IsAlive(entity) && _slots[entity.Id].Archetype!.ColumnOf(ComponentType<T>.Id) >= 0;

    /// <summary>A reference to the entity's <typeparamref name="T"/>, valid until the next structural change.</summary>
    public ref T Get<T>(Entity entity)
    {
        if (EcsChecks.Enabled) AccessCheck.Touch(this, typeof(T));
        ref var slot = ref SlotOf(entity);
        int column = slot.Archetype!.ColumnOf(ComponentType<T>.Id);
        if (column < 0) throw Missing<T>(entity, slot.Archetype, nameof(Get));
        return ref slot.Archetype.GetChunk(slot.Chunk).GetRef<T>(column, slot.Row);
    }

    public bool TryGet<T>(Entity entity, out T component)
    {
        if (EcsChecks.Enabled) AccessCheck.Touch(this, typeof(T));
        if (IsAlive(entity))
        {
            ref var slot = ref _slots[entity.Id];
            int column = slot.Archetype!.ColumnOf(ComponentType<T>.Id);
            if (column >= 0)
            {
                component = slot.Archetype.GetChunk(slot.Chunk).GetRef<T>(column, slot.Row);
                return true;
            }
        }
        component = default!;
        return false;
    }

    public void Set<T>(Entity entity, in T component)
    {
        if (EcsChecks.Enabled) AccessCheck.Write(this, typeof(T));
        ref var slot = ref SlotOf(entity);
        int column = slot.Archetype!.ColumnOf(ComponentType<T>.Id);
        if (column < 0) throw Missing<T>(entity, slot.Archetype, nameof(Set), " (use Add to give it one)");
        slot.Archetype.GetChunk(slot.Chunk).GetRef<T>(column, slot.Row) = component;
    }

    public void Add<T>(Entity entity, in T component)
    {
        ThrowIfIterating("Add", typeof(T));
        if (EcsChecks.Enabled) AccessCheck.Write(this, typeof(T));
        ref var slot = ref SlotOf(entity);
        int id = ComponentType<T>.Id;
        var from = slot.Archetype!;
        if (from.ColumnOf(id) >= 0)
            throw new InvalidOperationException($"{entity} already has a {typeof(T).Name} component (use Set to change it).");
        if (!from.AddEdges.TryGetValue(id, out var to))
            from.AddEdges[id] = to = GetOrCreateArchetype(from.Mask.With(id));
        Move(entity, ref slot, to);
        to.GetChunk(slot.Chunk).GetRef<T>(to.ColumnOf(id), slot.Row) = component;
    }

    public void Remove<T>(Entity entity)
    {
        ThrowIfIterating("Remove", typeof(T));
        if (EcsChecks.Enabled) AccessCheck.Write(this, typeof(T));
        ref var slot = ref SlotOf(entity);
        int id = ComponentType<T>.Id;
        var from = slot.Archetype!;
        if (from.ColumnOf(id) < 0) throw Missing<T>(entity, from, nameof(Remove));
        if (!from.RemoveEdges.TryGetValue(id, out var to))
            from.RemoveEdges[id] = to = GetOrCreateArchetype(from.Mask.Without(id));
        Move(entity, ref slot, to);
    }

    public void Destroy(Entity entity)
    {
        ThrowIfIterating(nameof(Destroy));
        ref var slot = ref SlotOf(entity);
        RemoveRow(slot.Archetype!, slot.Chunk, slot.Row);
        slot.Archetype = null;
        // Bumping the version now is what makes every outstanding handle stale.
        slot.Version = slot.Version == int.MaxValue ? 1 : slot.Version + 1;
        if (_freeCount == _free.Length) Array.Resize(ref _free, _free.Length * 2);
        _free[_freeCount++] = entity.Id;
        EntityCount--;
    }

    /// <summary>The cached query for <paramref name="description"/>.</summary>
    public Query Query(in QueryDescription description)
    {
        // Systems of one parallel batch may look up queries at the same time.
        lock (_queries)
        {
            if (!_queries.TryGetValue(description, out var query))
                _queries[description] = query = new Query(this, description);
            return query;
        }
    }

    public int CountEntities(in QueryDescription description) => Query(description).Count;

    public void Dispose()
    {
        foreach (var archetype in ArchetypeList) archetype.Clear();
        Array.Clear(_slots);
        _nextId = 0;
        _freeCount = 0;
        EntityCount = 0;
    }

    internal void EnterIteration() => Interlocked.Increment(ref _iterating);

    internal void ExitIteration() => Interlocked.Decrement(ref _iterating);

    /// <summary>The query for <paramref name="description"/> with the given component types added to its WithAll, so ForEach can read their columns.</summary>
    private Query QueryIncluding(in QueryDescription description, params ReadOnlySpan<int> ids)
    {
        // The loop hands out references to these columns: each is a read or a write.
        if (EcsChecks.Enabled)
            foreach (int id in ids) AccessCheck.Touch(this, ComponentType.TypeOf(id));
        foreach (int id in ids)
            if (!description.All.Has(id)) return Query(description.WithAllIds(ids));
        return Query(description);
    }

    private Archetype ArchetypeForCreate(params ReadOnlySpan<int> ids)
    {
        ThrowIfIterating(nameof(Create));
        var archetype = _empty;
        foreach (int id in ids)
        {
            if (EcsChecks.Enabled) AccessCheck.Write(this, ComponentType.TypeOf(id));
            if (archetype.ColumnOf(id) >= 0)
                throw new ArgumentException($"Create was given {ComponentType.TypeOf(id).Name} twice; an entity has at most one component of each type.");
            if (!archetype.AddEdges.TryGetValue(id, out var next))
                archetype.AddEdges[id] = next = GetOrCreateArchetype(archetype.Mask.With(id));
            archetype = next;
        }
        return archetype;
    }

    private Entity Allocate(Archetype archetype, out Chunk chunk, out int row)
    {
        int id;
        if (_freeCount > 0)
        {
            id = _free[--_freeCount];
        }
        else
        {
            if (_nextId == _slots.Length) Array.Resize(ref _slots, _slots.Length * 2);
            id = _nextId++;
            _slots[id].Version = 1;
        }
        ref var slot = ref _slots[id];
        var entity = new Entity(id, slot.Version);
        (slot.Chunk, slot.Row) = archetype.AddRow(entity);
        slot.Archetype = archetype;
        chunk = archetype.GetChunk(slot.Chunk);
        row = slot.Row;
        EntityCount++;
        return entity;
    }

    private void Move(Entity entity, ref Slot slot, Archetype to)
    {
        var from = slot.Archetype!;
        var (toChunkIndex, toRow) = to.AddRow(entity);
        var source = from.GetChunk(slot.Chunk);
        var target = to.GetChunk(toChunkIndex);
        var fromIds = from.ComponentIds;
        for (int c = 0; c < fromIds.Length; c++)
        {
            int targetColumn = to.ColumnOf(fromIds[c]);
            if (targetColumn >= 0) Array.Copy(source.Columns[c], slot.Row, target.Columns[targetColumn], toRow, 1);
        }
        RemoveRow(from, slot.Chunk, slot.Row);
        slot.Archetype = to;
        slot.Chunk = toChunkIndex;
        slot.Row = toRow;
    }

    private void RemoveRow(Archetype archetype, int chunk, int row)
    {
        var moved = archetype.RemoveRow(chunk, row);
        if (moved.IsNull) return;
        ref var movedSlot = ref _slots[moved.Id];
        movedSlot.Chunk = chunk;
        movedSlot.Row = row;
    }

    private Archetype GetOrCreateArchetype(ComponentMask mask)
    {
        if (!_archetypes.TryGetValue(mask, out var archetype))
        {
            archetype = new Archetype(mask);
            _archetypes[mask] = archetype;
            ArchetypeList.Add(archetype);
        }
        return archetype;
    }

    private ref Slot SlotOf(Entity entity)
    {
        if (!IsAlive(entity))
        {
            string why = entity.Id < 0 ? "it is a CommandBuffer placeholder, which only becomes an entity at playback"
                : (uint)entity.Id < (uint)_nextId ? "it was destroyed (a stale handle)" : "no such id";
            throw new InvalidOperationException($"{entity} is not alive: {why}.");
        }
        return ref _slots[entity.Id];
    }

    /// <summary>
    /// Refuses a structural change during iteration. The message is built only when it throws: a
    /// step sets and removes its frame resource, and must not allocate a message it never shows.
    /// </summary>
    private void ThrowIfIterating(string operation, Type? of = null)
    {
        if (Volatile.Read(ref _iterating) > 0)
            throw new InvalidOperationException(
                $"{operation}{(of is null ? "" : $"<{of.Name}>")} is a structural change, and the world is being iterated (a query, ForEach, or parallel schedule batch is running). " +
                "Record it in a CommandBuffer and play that back after the iteration.");
    }

    private static InvalidOperationException Missing<T>(Entity entity, Archetype archetype, string operation, string hint = "") =>
        new($"{operation}<{typeof(T).Name}>: {entity} has no {typeof(T).Name} component; it has {archetype}{hint}.");
}
