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
    private readonly Dictionary<string, nint> _programs = new();
    private readonly object _gate = new();

    public int Count
    {
        get { lock (_gate) return _programs.Count; }
    }

    public static string KeyOf(string source, string options, string compiler)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(compiler + "\n" + options + "\n" + source));
        return Convert.ToHexString(bytes);
    }

    /// <summary>The cached program for the key, or the one <paramref name="build"/> makes (kept only if it succeeds).</summary>
    public nint GetOrBuild(string key, Func<nint> build)
    {
        lock (_gate)
        {
            if (_programs.TryGetValue(key, out var program)) return program;
            program = build();
            _programs[key] = program;
            return program;
        }
    }

    public void Dispose()
    {
        lock (_gate)
        {
            foreach (var program in _programs.Values) release(program);
            _programs.Clear();
        }
    }
}
