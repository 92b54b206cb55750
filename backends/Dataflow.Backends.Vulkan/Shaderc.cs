using System.Runtime.InteropServices;
using System.Text;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// GLSL → SPIR-V in process through libshaderc's C API (the few functions it takes), called
/// through function pointers bound once. One compiler per process, shared by concurrent compiles (they only read it).
/// </summary>
internal sealed unsafe class Shaderc : IShaderCompiler
{
    private const int ComputeShader = 2;       // shaderc_compute_shader
    private const int StatusSuccess = 0;       // shaderc_compilation_status_success
    private const int StatusCompilationError = 2;
    private const int TargetEnvVulkan = 0;     // shaderc_target_env_vulkan
    private const uint EnvVersionVulkan10 = 1u << 22;

    private static readonly object Gate = new();
    private static nint _compiler, _options;
    private static string? _unusable;

    public static readonly Shaderc Instance = new();

    private Shaderc()
    {
    }

    public string Name => "libshaderc";

    /// <summary>
    /// Loads libshaderc and makes the compiler, once; false (with the loader's reason) when the
    /// library is missing or cannot be linked, as Debian 12's libshaderc1 cannot: it leaves
    /// glslang's and SPIRV-Tools' symbols undefined.
    /// </summary>
    public static bool TryLoad(out string? why)
    {
        lock (Gate)
        {
            if (_compiler == 0 && _unusable is null) _unusable = Load();
            why = _unusable;
            return _unusable is null;
        }
    }

    private static string? Load()
    {
        var errors = new List<string>();
        nint library = 0;
        foreach (var candidate in Candidates)
        {
            try
            {
                library = NativeLibrary.Load(candidate);
                break;
            }
            catch (DllNotFoundException e)
            {
                // A library that is there but does not link says why; "not found" for every other name is noise.
                if (e.Message.Contains("symbol", StringComparison.Ordinal)) errors.Add(e.Message.Trim());
            }
        }
        if (library == 0)
            return $"cannot load libshaderc ({string.Join(", ", Candidates)})" + (errors.Count > 0 ? ": " + string.Join("; ", errors) : "");
        try
        {
            Bind(library);
        }
        catch (EntryPointNotFoundException e)
        {
            return $"libshaderc lacks a function this backend calls: {e.Message}";
        }
        _compiler = shaderc_compiler_initialize();
        _options = shaderc_compile_options_initialize();
        if (_compiler == 0 || _options == 0) return "libshaderc could not create a compiler";
        // No spirv-opt passes: the driver optimises anyway, and the SPIR-V stays a plain
        // translation of the source (precise stays precise).
        shaderc_compile_options_set_optimization_level(_options, 0);
        shaderc_compile_options_set_target_env(_options, TargetEnvVulkan, EnvVersionVulkan10);
        return null;
    }

    /// <summary>The SPIR-V words for a compute shader, or <see cref="KernelCompileException"/> with shaderc's log.</summary>
    public uint[] Compile(string kernelName, string source)
    {
        if (!TryLoad(out var why)) throw new BackendUnavailableException("vulkan: " + why);
        var text = Encoding.UTF8.GetBytes(source);
        // No lock: shaderc_compile_into_spv takes the compiler and options as const, and shaderc
        // promises that calls which only read one object may run at the same time.
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
                    throw new KernelCompileException("vulkan", kernelName, what + "\n--- source ---\n" + IShaderCompiler.Numbered(source));
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

    /// <summary>The library's names on Linux (the Debian package ships only the versioned one), Windows and macOS.</summary>
    private static readonly string[] Candidates =
        ["libshaderc.so.1", "libshaderc_shared.so.1", "libshaderc_shared.so", "libshaderc.so", "shaderc_shared.dll", "libshaderc_shared.dylib"];

    private static delegate* unmanaged<nint> shaderc_compiler_initialize;
    private static delegate* unmanaged<nint> shaderc_compile_options_initialize;
    private static delegate* unmanaged<nint, int, void> shaderc_compile_options_set_optimization_level;
    private static delegate* unmanaged<nint, int, uint, void> shaderc_compile_options_set_target_env;
    private static delegate* unmanaged<nint, byte*, nuint, int, byte*, byte*, nint, nint> shaderc_compile_into_spv;
    private static delegate* unmanaged<nint, int> shaderc_result_get_compilation_status;
    private static delegate* unmanaged<nint, nuint> shaderc_result_get_length;
    private static delegate* unmanaged<nint, nint> shaderc_result_get_bytes;
    private static delegate* unmanaged<nint, nint> shaderc_result_get_error_message;
    private static delegate* unmanaged<nint, void> shaderc_result_release;

    private static void Bind(nint library)
    {
        shaderc_compiler_initialize = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, nameof(shaderc_compiler_initialize));
        shaderc_compile_options_initialize = (delegate* unmanaged<nint>)NativeLibrary.GetExport(library, nameof(shaderc_compile_options_initialize));
        shaderc_compile_options_set_optimization_level = (delegate* unmanaged<nint, int, void>)NativeLibrary.GetExport(library, nameof(shaderc_compile_options_set_optimization_level));
        shaderc_compile_options_set_target_env = (delegate* unmanaged<nint, int, uint, void>)NativeLibrary.GetExport(library, nameof(shaderc_compile_options_set_target_env));
        shaderc_compile_into_spv = (delegate* unmanaged<nint, byte*, nuint, int, byte*, byte*, nint, nint>)NativeLibrary.GetExport(library, nameof(shaderc_compile_into_spv));
        shaderc_result_get_compilation_status = (delegate* unmanaged<nint, int>)NativeLibrary.GetExport(library, nameof(shaderc_result_get_compilation_status));
        shaderc_result_get_length = (delegate* unmanaged<nint, nuint>)NativeLibrary.GetExport(library, nameof(shaderc_result_get_length));
        shaderc_result_get_bytes = (delegate* unmanaged<nint, nint>)NativeLibrary.GetExport(library, nameof(shaderc_result_get_bytes));
        shaderc_result_get_error_message = (delegate* unmanaged<nint, nint>)NativeLibrary.GetExport(library, nameof(shaderc_result_get_error_message));
        shaderc_result_release = (delegate* unmanaged<nint, void>)NativeLibrary.GetExport(library, nameof(shaderc_result_release));
    }
}
