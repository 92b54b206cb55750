using System.Runtime.InteropServices;

namespace Dataflow.Engine.Ecs;

/// <summary>
/// Structural changes recorded now and applied to a world later, in order, at
/// <see cref="Playback"/>: the way to create, add, remove and destroy from inside a query loop or
/// a parallel system. Not thread-safe; give each thread or system its own buffer.
/// </summary>
public sealed class CommandBuffer
{
    private enum Kind : byte { Create, Destroy, Add, Set, Remove }

    private readonly record struct Command(Kind Kind, Entity Entity, int ComponentId, int Index);

    private static int _nextTag;

    // Placeholders carry the buffer's tag as their version, so one from another buffer is caught.
    private readonly int _tag = -Interlocked.Increment(ref _nextTag);
    private readonly List<Command> _commands = new();
    private readonly Dictionary<int, ComponentLog> _logs = new();
    private int _created;

    public int Count => _commands.Count;

    /// <summary>A placeholder for an entity created at playback; usable only in this buffer's commands.</summary>
    public Entity Create()
    {
        var placeholder = new Entity(-(++_created), _tag);
        _commands.Add(new Command(Kind.Create, placeholder, -1, -1));
        return placeholder;
    }

    public void Add<T>(Entity entity, in T component) => _commands.Add(new Command(Kind.Add, entity, ComponentType<T>.Id, Log<T>().Push(component)));

    public void Set<T>(Entity entity, in T component) => _commands.Add(new Command(Kind.Set, entity, ComponentType<T>.Id, Log<T>().Push(component)));

    public void Remove<T>(Entity entity)
    {
        Log<T>(); // playback dispatches Remove<T> through the type's log
        _commands.Add(new Command(Kind.Remove, entity, ComponentType<T>.Id, -1));
    }

    public void Destroy(Entity entity) => _commands.Add(new Command(Kind.Destroy, entity, -1, -1));

    /// <summary>Applies every command in recording order, then empties the buffer (also when one fails).</summary>
    public void Playback(World world)
    {
        var created = _created == 0 ? [] : new Entity[_created];
        try
        {
            foreach (var command in _commands)
            {
                if (command.Kind == Kind.Create)
                {
                    created[-command.Entity.Id - 1] = world.Create();
                    continue;
                }
                var entity = Resolve(command.Entity, created);
                if (command.Kind == Kind.Destroy) world.Destroy(entity);
                else _logs[command.ComponentId].Apply(world, command.Kind, entity, command.Index);
            }
        }
        finally
        {
            Clear();
        }
    }

    public void Clear()
    {
        _commands.Clear();
        foreach (var log in _logs.Values) log.Clear();
        _created = 0;
    }

    private Entity Resolve(Entity entity, Entity[] created)
    {
        if (entity.Id >= 0) return entity;
        if (entity.Version != _tag || -entity.Id > created.Length)
            throw new InvalidOperationException($"{entity} is a placeholder from a different CommandBuffer.");
        return created[-entity.Id - 1];
    }

    private ComponentLog<T> Log<T>()
    {
        int id = ComponentType<T>.Id;
        if (!_logs.TryGetValue(id, out var log)) _logs[id] = log = new ComponentLog<T>();
        return (ComponentLog<T>)log;
    }

    // Components are kept in one typed list per component type, so recording does not box and
    // playback calls the generic world methods without reflection.
    private abstract class ComponentLog
    {
        public abstract void Apply(World world, Kind kind, Entity entity, int index);

        public abstract void Clear();
    }

    private sealed class ComponentLog<T> : ComponentLog
    {
        private readonly List<T> _values = new();

        public int Push(in T value)
        {
            _values.Add(value);
            return _values.Count - 1;
        }

        public override void Apply(World world, Kind kind, Entity entity, int index)
        {
            switch (kind)
            {
                case Kind.Add: world.Add(entity, CollectionsMarshal.AsSpan(_values)[index]); break;
                case Kind.Set: world.Set(entity, CollectionsMarshal.AsSpan(_values)[index]); break;
                case Kind.Remove: world.Remove<T>(entity); break;
            }
        }

        public override void Clear() => _values.Clear();
    }
}
