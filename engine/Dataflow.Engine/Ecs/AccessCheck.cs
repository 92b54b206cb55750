namespace Dataflow.Engine.Ecs;

/// <summary>
/// While a schedule runs a system (with <see cref="EcsChecks.Enabled"/>), records which component
/// and resource types the system actually touches in its world and refuses the first one its
/// declaration does not cover. A reference handed out by <see cref="World.Get{T}"/>, a query loop or
/// <see cref="World.Resource{T}"/> may be read or written, so those need the type declared as read or
/// written; <see cref="World.Set{T}"/>, <c>Add</c>, <c>Remove</c>, <c>Create</c> and
/// <see cref="World.SetResource{T}"/> need it declared as written. Query filters (WithAll/Any/None)
/// and <see cref="World.Has{T}"/> test presence only and are not accesses (as in Bevy). Work a
/// system hands to job-system workers is attributed to it only through the query call that started it.
/// </summary>
internal sealed class AccessCheck
{
    [ThreadStatic] private static AccessCheck? t_current;

    private readonly World _world;
    private readonly ISystem _system;
    private readonly HashSet<Type> _declaredReads;
    private readonly HashSet<Type> _declaredWrites;

    private AccessCheck(World world, ISystem system)
    {
        _world = world;
        _system = system;
        _declaredWrites = [.. system.Access.Writes];
        _declaredReads = [.. system.Access.Reads, .. system.Access.ReadsPrevious, .. system.Access.Writes];
    }

    public HashSet<Type> Touched { get; } = [];
    public HashSet<Type> Written { get; } = [];

    /// <summary>Checks <paramref name="system"/>'s accesses to <paramref name="world"/> on this thread until the scope is disposed (nests: a system may run another world's schedule).</summary>
    public static Scope Enter(World world, ISystem system, Dictionary<string, AccessCheck>? log = null)
    {
        if (!EcsChecks.Enabled) return default;
        AccessCheck? check = null;
        // A system's deferred changes, played back after its batch, join the record of its run.
        if (log is not null) lock (log) { if (!log.TryGetValue(system.Name, out check)) log[system.Name] = check = new AccessCheck(world, system); }
        check ??= new AccessCheck(world, system);
        var previous = t_current;
        t_current = check;
        return new Scope(previous, true);
    }

    public static void Touch(World world, Type type)
    {
        if (t_current is not { } check || check._world != world) return;
        if (!check._declaredReads.Contains(type)) throw check.Undeclared(type, "reads or writes");
        check.Touched.Add(type);
    }

    public static void Write(World world, Type type)
    {
        if (t_current is not { } check || check._world != world) return;
        if (!check._declaredWrites.Contains(type)) throw check.Undeclared(type, "writes");
        check.Touched.Add(type);
        check.Written.Add(type);
    }

    private UndeclaredAccessException Undeclared(Type type, string what) => new(
        $"{_system.Name} {what} {type.Name}, which its Access does not declare " +
        $"(reads: [{string.Join(", ", _system.Access.Reads.Concat(_system.Access.ReadsPrevious).Select(t => t.Name))}]; writes: [{string.Join(", ", _system.Access.Writes.Select(t => t.Name))}]); " +
        "the schedule orders and parallelises systems by their declarations, so declare it.",
        _system.Name, type);

    public readonly ref struct Scope(AccessCheck? previous, bool active)
    {
        public void Dispose()
        {
            if (active) t_current = previous;
        }
    }
}

/// <summary>A system touched a component or resource type its <see cref="ISystem.Access"/> does not declare: a bug in the system.</summary>
public sealed class UndeclaredAccessException(string message, string system, Type type) : Exception(message)
{
    public string System { get; } = system;
    public Type Type { get; } = type;
}
