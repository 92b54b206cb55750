using System.Security.Cryptography;
using System.Text;
using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// SPIR-V keyed by a hash of the GLSL source: two specs that generate the same text share one
/// shaderc compile. SPIR-V does not depend on the device, so one cache serves a whole backend;
/// failures are not cached, so a fixed source is compiled again.
/// </summary>
internal sealed class ShaderCache(IShaderCompiler compiler)
{
    // Different sources compile at the same time (the engine compiles a graph's kernels in parallel), one source once.
    private readonly BuildOnceCache<uint[]> _spirv = new();

    /// <summary>Distinct sources compiled.</summary>
    public int Count => _spirv.Count;

    public static string KeyOf(string source) => Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(source)));

    public uint[] GetOrCompile(string kernelName, string source) => _spirv.GetOrBuild(KeyOf(source), () => compiler.Compile(kernelName, source));
}
