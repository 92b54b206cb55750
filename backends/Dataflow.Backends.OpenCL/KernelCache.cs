using System.Security.Cryptography;
using System.Text;
using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.OpenCL;

/// <summary>
/// Built programs keyed by a hash of (source, build options, device and driver): two specs that
/// generate the same text share one clBuildProgram, and a program is never reused across compilers.
/// Owns the programs; <see cref="Dispose"/> hands every one to <paramref name="release"/>.
/// </summary>
internal sealed class KernelCache(Action<nint> release) : IDisposable
{
    // Different sources build at the same time (the engine compiles a graph's kernels in parallel), one source once.
    private readonly BuildOnceCache<nint> _programs = new();

    public static string KeyOf(string source, string options, string compiler)
    {
        var bytes = SHA256.HashData(Encoding.UTF8.GetBytes(compiler + "\n" + options + "\n" + source));
        return Convert.ToHexString(bytes);
    }

    /// <summary>The cached program for the key, or the one <paramref name="build"/> makes (kept only if it succeeds); thread-safe.</summary>
    public nint GetOrBuild(string key, Func<nint> build) => _programs.GetOrBuild(key, build);

    public void Dispose()
    {
        foreach (var program in _programs.TakeAll()) release(program);
    }
}
