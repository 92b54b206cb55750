using System.Security.Cryptography;
using System.Text;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// SPIR-V keyed by a hash of the GLSL source: two specs that generate the same text share one
/// shaderc compile. SPIR-V does not depend on the device, so one cache serves a whole backend;
/// failures are not cached, so a fixed source is compiled again.
/// </summary>
internal sealed class ShaderCache(IShaderCompiler compiler)
{
    // One entry per source, made under the lock and compiled outside it: different sources compile
    // at the same time (the engine compiles a graph's kernels in parallel), the same source once.
    private readonly Dictionary<string, Lazy<uint[]>> _spirv = new();
    private readonly object _gate = new();

    public IShaderCompiler Compiler => compiler;

    /// <summary>Distinct sources compiled.</summary>
    public int Count
    {
        get { lock (_gate) return _spirv.Values.Count(s => s.IsValueCreated); }
    }

    public static string KeyOf(string source) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source)));

    public uint[] GetOrCompile(string kernelName, string source)
    {
        string key = KeyOf(source);
        Lazy<uint[]> entry;
        lock (_gate)
        {
            if (!_spirv.TryGetValue(key, out entry!))
                _spirv[key] = entry = new Lazy<uint[]>(() => compiler.Compile(kernelName, source), LazyThreadSafetyMode.ExecutionAndPublication);
        }
        try
        {
            return entry.Value;
        }
        catch
        {
            lock (_gate)
            {
                if (_spirv.TryGetValue(key, out var current) && ReferenceEquals(current, entry)) _spirv.Remove(key);
            }
            throw;
        }
    }
}
