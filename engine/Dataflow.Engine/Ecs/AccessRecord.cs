namespace Dataflow.Engine.Ecs;

/// <summary>
/// What each system touched over every schedule run inside this record's scope, beside what it
/// declares (with <see cref="EcsChecks.Enabled"/>; the record follows the async flow that started it).
/// It is the other half of the access check: an undeclared access already fails as it happens
/// (<see cref="UndeclaredAccessException"/>), while a type declared and never touched only makes the
/// derived schedule more serial than the data requires. Many accesses are conditional (a training
/// step updates parameters, an inference step does not; prefill and decode take turns), so only the
/// union over representative work says a declaration is wider than the system: a test runs that
/// work inside a record and asks for <see cref="Unused"/>.
/// </summary>
public sealed class AccessRecord : IDisposable
{
    private static readonly AsyncLocal<AccessRecord?> s_current = new();

    private readonly AccessRecord? _outer;
    private readonly Dictionary<string, (HashSet<Type> Declared, HashSet<Type> Touched)> _systems = new(StringComparer.Ordinal);
    private bool _disposed;

    private AccessRecord(AccessRecord? outer) => _outer = outer;

    /// <summary>Starts recording the schedule runs of this flow until the record is disposed (records nest: an inner one hides the outer).</summary>
    public static AccessRecord Start()
    {
        var record = new AccessRecord(s_current.Value);
        s_current.Value = record;
        return record;
    }

    /// <summary>The names of the systems that ran at least once while recording.</summary>
    public IReadOnlyCollection<string> Systems
    {
        get { lock (_systems) return [.. _systems.Keys]; }
    }

    /// <summary>Every type <paramref name="system"/> touched in any recorded run (empty when it never ran).</summary>
    public IReadOnlySet<Type> Touched(string system)
    {
        lock (_systems) return _systems.TryGetValue(system, out var entry) ? new HashSet<Type>(entry.Touched) : [];
    }

    /// <summary>
    /// One line per system and type it declares (read, read as last frame left it, or written) but
    /// never touched in a recorded run, in system then type name order. <paramref name="unseen"/>
    /// are types the world cannot see (markers naming device memory, say), which are left out.
    /// </summary>
    public IReadOnlyList<string> Unused(IReadOnlyCollection<Type>? unseen = null)
    {
        lock (_systems)
        {
            return [.. _systems.OrderBy(s => s.Key, StringComparer.Ordinal).SelectMany(s => s.Value.Declared
                .Where(t => !s.Value.Touched.Contains(t) && unseen?.Contains(t) != true)
                .OrderBy(t => t.Name, StringComparer.Ordinal)
                .Select(t => $"{s.Key} declares {t.Name} but never touched it"))];
        }
    }

    /// <summary>Adds one schedule run: each system that ran and the types it touched (see <see cref="Schedule.LastAccess"/>).</summary>
    internal static void Add(IEnumerable<ISystem> systems, IReadOnlyDictionary<string, AccessCheck> touched)
    {
        if (s_current.Value is not { } record) return;
        lock (record._systems)
        {
            foreach (var system in systems)
            {
                if (!touched.TryGetValue(system.Name, out var check)) continue;
                if (!record._systems.TryGetValue(system.Name, out var entry)) record._systems[system.Name] = entry = ([], []);
                entry.Declared.UnionWith(system.Access.Reads);
                entry.Declared.UnionWith(system.Access.ReadsPrevious);
                entry.Declared.UnionWith(system.Access.Writes);
                entry.Touched.UnionWith(check.Touched);
            }
        }
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (s_current.Value == this) s_current.Value = _outer;
    }
}
