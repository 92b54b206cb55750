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
    private readonly Dictionary<string, uint[]> _spirv = new();
    private readonly object _gate = new();

    public IShaderCompiler Compiler => compiler;

    /// <summary>Distinct sources compiled.</summary>
    public int Count
    {
        get { lock (_gate) return _spirv.Count; }
    }

    public static string KeyOf(string source) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source)));

    public uint[] GetOrCompile(string kernelName, string source)
    {
        string key = KeyOf(source);
        lock (_gate)
        {
            if (_spirv.TryGetValue(key, out var words)) return words;
            words = compiler.Compile(kernelName, source);
            _spirv[key] = words;
            return words;
        }
    }
}
