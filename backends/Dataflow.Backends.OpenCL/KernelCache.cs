using System.Security.Cryptography;
using System.Text;

namespace Dataflow.Backends.OpenCL;

/// <summary>
/// Built programs keyed by a hash of (source, build options, device and driver): two specs that
/// generate the same text share one clBuildProgram, and a program is never reused across compilers.
/// Owns the programs; <see cref="Dispose"/> hands every one to <paramref name="release"/>.
/// </summary>
internal sealed class KernelCache(Action<nint> release) : IDisposable
{
    // One entry per key, made under the lock and built outside it: different sources build at the
    // same time (the engine compiles a graph's kernels in parallel), the same source once.
    private readonly Dictionary<string, Lazy<nint>> _programs = new();
    private readonly object _gate = new();

    public int Count
    {
        get { lock (_gate) return _programs.Values.Count(p => p.IsValueCreated); }
    }

    public static string KeyOf(string source, string options, string compiler)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(compiler + "\n" + options + "\n" + source));
        return Convert.ToHexString(bytes);
    }

    /// <summary>The cached program for the key, or the one <paramref name="build"/> makes (kept only if it succeeds); thread-safe.</summary>
    public nint GetOrBuild(string key, Func<nint> build)
    {
        Lazy<nint> entry;
        lock (_gate)
        {
            if (!_programs.TryGetValue(key, out entry!))
                _programs[key] = entry = new Lazy<nint>(build, LazyThreadSafetyMode.ExecutionAndPublication);
        }
        try
        {
            return entry.Value;
        }
        catch
        {
            // A failed build is not cached: a fixed source (or a retry) builds again.
            lock (_gate)
            {
                if (_programs.TryGetValue(key, out var current) && ReferenceEquals(current, entry)) _programs.Remove(key);
            }
            throw;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var program in _programs.Values.Where(p => p.IsValueCreated)) release(program.Value);
            _programs.Clear();
        }
    }
}
