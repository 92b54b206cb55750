using System.Reflection;
using System.Runtime.InteropServices;
using System.Text;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// GLSL → SPIR-V at run time through libshaderc's C API (the few functions it takes). One compiler
/// per process, shared under a lock; a missing libshaderc becomes <see cref="BackendUnavailableException"/>
/// when a backend opens, not a crash at the first kernel.
/// </summary>
internal static unsafe partial class Shaderc
{
    private const string Library = "shaderc_shared";

    private const int ComputeShader = 2;       // shaderc_compute_shader
    private const int StatusSuccess = 0;       // shaderc_compilation_status_success
    private const int StatusCompilationError = 2;
    private const int TargetEnvVulkan = 0;     // shaderc_target_env_vulkan
    private const uint EnvVersionVulkan10 = 1u << 22;

    private static readonly object Gate = new();
    private static nint _compiler, _options;

    static Shaderc() => NativeLibrary.SetDllImportResolver(typeof(Shaderc).Assembly, Resolve);

    private static nint Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library) return 0;
        foreach (var candidate in new[] { "libshaderc.so.1", "libshaderc_shared.so.1", "libshaderc_shared.so", "libshaderc.so", "shaderc_shared.dll", "libshaderc_shared.dylib" })
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle)) return handle;
        return 0;
    }

    /// <summary>Loads libshaderc and makes the compiler, or says why it cannot.</summary>
    public static void EnsureLoaded()
    {
        lock (Gate)
        {
            if (_compiler != 0) return;
            try
            {
                _compiler = shaderc_compiler_initialize();
                _options = shaderc_compile_options_initialize();
            }
            catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
            {
                throw new BackendUnavailableException(
                    $"vulkan: cannot load libshaderc (libshaderc.so.1), which compiles the generated shaders: {e.Message.TrimEnd('.', ' ')}. " +
                    "Install it (for example the libshaderc1 package).", e);
            }
            if (_compiler == 0 || _options == 0) throw new BackendUnavailableException("vulkan: libshaderc could not create a compiler");
            // No spirv-opt passes: the driver optimises anyway, and the SPIR-V stays a plain
            // translation of the source (precise stays precise).
            shaderc_compile_options_set_optimization_level(_options, 0);
            shaderc_compile_options_set_target_env(_options, TargetEnvVulkan, EnvVersionVulkan10);
        }
    }

    /// <summary>The SPIR-V words for a compute shader, or <see cref="KernelCompileException"/> with shaderc's log.</summary>
    public static uint[] Compile(string kernelName, string source)
    {
        EnsureLoaded();
        var text = Encoding.UTF8.GetBytes(source);
        lock (Gate)
        {
            nint result;
            fixed (byte* src = text)
            fixed (byte* file = "kernel.comp\0"u8)
            fixed (byte* entry = "main\0"u8)
                result = shaderc_compile_into_spv(_compiler, src, (nuint)text.Length, ComputeShader, file, entry, _options);
            if (result == 0) throw new KernelCompileException("vulkan", kernelName, "shaderc returned no result");
            try
            {
                int status = shaderc_result_get_compilation_status(result);
                if (status != StatusSuccess)
                {
                    string log = Marshal.PtrToStringUTF8(shaderc_result_get_error_message(result))?.Trim() ?? "(no log)";
                    string what = status == StatusCompilationError ? log : $"shaderc status {status}: {log}";
                    throw new KernelCompileException("vulkan", kernelName, what + "\n--- source ---\n" + Numbered(source));
                }
                long length = (long)shaderc_result_get_length(result);
                var words = new uint[length / 4];
                new ReadOnlySpan<byte>((void*)shaderc_result_get_bytes(result), (int)length).CopyTo(MemoryMarshal.AsBytes(words.AsSpan()));
                return words;
            }
            finally
            {
                shaderc_result_release(result);
            }
        }
    }

    private static string Numbered(string source) =>
        string.Join('\n', source.Split('\n').Select((line, i) => $"{i + 1,4}: {line}"));

    [LibraryImport(Library)] private static partial nint shaderc_compiler_initialize();
    [LibraryImport(Library)] private static partial nint shaderc_compile_options_initialize();
    [LibraryImport(Library)] private static partial void shaderc_compile_options_set_optimization_level(nint options, int level);
    [LibraryImport(Library)] private static partial void shaderc_compile_options_set_target_env(nint options, int target, uint version);
    [LibraryImport(Library)] private static partial nint shaderc_compile_into_spv(nint compiler, byte* source, nuint length, int kind, byte* file, byte* entry, nint options);
    [LibraryImport(Library)] private static partial int shaderc_result_get_compilation_status(nint result);
    [LibraryImport(Library)] private static partial nuint shaderc_result_get_length(nint result);
    [LibraryImport(Library)] private static partial nint shaderc_result_get_bytes(nint result);
    [LibraryImport(Library)] private static partial nint shaderc_result_get_error_message(nint result);
    [LibraryImport(Library)] private static partial void shaderc_result_release(nint result);
}
