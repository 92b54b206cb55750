using System.Buffers;

namespace Dataflow.Engine.Ecs;

/// <summary>
/// The archetypes matching one <see cref="QueryDescription"/>. Archetypes are only ever added to a
/// world, so a query catches up by testing the ones created since it last looked.
/// </summary>
public sealed class Query
{
    private readonly World _world;
    private readonly List<Archetype> _matches = new();
    private int _archetypesSeen;

    internal Query(World world, QueryDescription description)
    {
        _world = world;
        Description = description;
    }

    public QueryDescription Description { get; }

    /// <summary>The matching archetypes, including ones with no entities right now.</summary>
    public IReadOnlyList<Archetype> MatchingArchetypes
    {
        get
        {
            Update();
            return _matches;
        }
    }

    internal List<Archetype> Archetypes
    {
        get
        {
            Update();
            return _matches;
        }
    }

    public int Count
    {
        get
        {
            int n = 0;
            foreach (var archetype in Archetypes) n += archetype.EntityCount;
            return n;
        }
    }

    /// <summary>
    /// The non-empty chunks of the matching archetypes. While a <c>foreach</c> over them runs, the
    /// world refuses structural changes.
    /// </summary>
    public ChunkEnumerable GetChunks() => new(_world, Archetypes);

    /// <summary>All matching chunks in a pooled array (return it to <see cref="ArrayPool{T}.Shared"/>).</summary>
    internal Chunk[] RentChunks(out int count)
    {
        count = 0;
        var archetypes = Archetypes;
        foreach (var archetype in archetypes) count += archetype.ChunkCount;
        var chunks = ArrayPool<Chunk>.Shared.Rent(Math.Max(1, count));
        int k = 0;
        foreach (var archetype in archetypes)
            foreach (var chunk in archetype.Chunks) chunks[k++] = chunk;
        return chunks;
    }

    private void Update()
    {
        var all = _world.ArchetypeList;
        if (Volatile.Read(ref _archetypesSeen) == all.Count) return;
        // Systems of one parallel batch may share this query; only archetype creation, which the
        // world refuses during such a batch, could race with this.
        lock (_matches)
        {
            for (; _archetypesSeen < all.Count; _archetypesSeen++)
                if (Description.Matches(all[_archetypesSeen].Mask)) _matches.Add(all[_archetypesSeen]);
        }
    }
}

public readonly ref struct ChunkEnumerable
{
    private readonly World _world;
    private readonly List<Archetype> _archetypes;

    internal ChunkEnumerable(World world, List<Archetype> archetypes)
    {
        _world = world;
        _archetypes = archetypes;
    }

    public ChunkEnumerator GetEnumerator() => new(_world, _archetypes);
}

/// <summary>Holds the world's iteration lock from creation until <see cref="Dispose"/>, which <c>foreach</c> calls.</summary>
public ref struct ChunkEnumerator
{
    private readonly World _world;
    private readonly List<Archetype> _archetypes;
    private int _archetype;
    private int _chunk;
    private bool _holdsLock;

    internal ChunkEnumerator(World world, List<Archetype> archetypes)
    {
        _world = world;
        _archetypes = archetypes;
        _world.EnterIteration();
        _holdsLock = true;
        Current = null!;
    }

    public Chunk Current { get; private set; }

    public bool MoveNext()
    {
        while (_archetype < _archetypes.Count)
        {
            var archetype = _archetypes[_archetype];
            if (_chunk < archetype.ChunkCount)
            {
                Current = archetype.GetChunk(_chunk++);
                return true;
            }
            _archetype++;
            _chunk = 0;
        }
        return false;
    }

    public void Dispose()
    {
        if (!_holdsLock) return;
        _holdsLock = false;
        _world.ExitIteration();
    }
}
