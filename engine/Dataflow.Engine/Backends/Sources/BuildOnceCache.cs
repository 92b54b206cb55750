namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// What a generated-source backend builds from a key (an OpenCL program, SPIR-V), built once per key
/// and safe for concurrent callers: the engine compiles a graph's kernels in parallel, so different
/// keys build at the same time while callers of one key wait for its single build. A failed build is
/// not kept, so a fixed source, or a retry, builds again.
/// </summary>
public sealed class BuildOnceCache<T>
{
    private readonly Dictionary<string, Lazy<T>> _entries = new();
    private readonly object _gate = new();

    /// <summary>Keys built so far.</summary>
    public int Count
    {
        get { lock (_gate) return _entries.Values.Count(e => e.IsValueCreated); }
    }

    public T GetOrBuild(string key, Func<T> build)
    {
        Lazy<T> entry;
        lock (_gate)
        {
            if (!_entries.TryGetValue(key, out entry!))
                _entries[key] = entry = new Lazy<T>(build, LazyThreadSafetyMode.ExecutionAndPublication);
        }
        try
        {
            return entry.Value;
        }
        catch
        {
            lock (_gate)
            {
                if (_entries.TryGetValue(key, out var current) && ReferenceEquals(current, entry)) _entries.Remove(key);
            }
            throw;
        }
    }

    /// <summary>Empties the cache and returns what it had built, for the owner to release.</summary>
    public List<T> TakeAll()
    {
        lock (_gate)
        {
            var built = _entries.Values.Where(e => e.IsValueCreated).Select(e => e.Value).ToList();
            _entries.Clear();
            return built;
        }
    }
}
