using System.Diagnostics;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// GLSL → SPIR-V through the glslangValidator command (glslang-tools): the fallback where libshaderc
/// cannot be loaded. Each compile writes the source to a temporary file (named by process, thread
/// and source, removed afterwards) and runs the command once. That costs a process and glslang's start-up (it parses every built-in function
/// declaration anew: about 0.1 s of CPU per shader), so results are also kept on disk, content-
/// addressed by a hash of the compiler's version and the source (<see cref="SpirvDiskCache"/>): a
/// second run of the same graphs compiles nothing.
/// </summary>
internal sealed class GlslangValidator : IShaderCompiler
{
    private static readonly Lazy<string?> Found = new(() => Search(OperatingSystem.IsWindows() ? "glslangValidator.exe" : "glslangValidator"));
    private readonly string _path;
    private readonly Lazy<SpirvDiskCache?> _disk;

    private GlslangValidator(string path)
    {
        _path = path;
        _disk = new(() => SpirvDiskCache.Open("glslangValidator " + Run("--version").Log.Split('\n')[0].Trim()));
    }

    public string Name => "glslangValidator";

    public static bool TryFind(out GlslangValidator? compiler, out string? why)
    {
        compiler = Found.Value is { } path ? new GlslangValidator(path) : null;
        why = compiler is null ? "glslangValidator is not on the PATH" : null;
        return compiler is not null;
    }

    public uint[] Compile(string kernelName, string source)
    {
        if (_disk.Value?.TryRead(source) is { } cached) return cached;
        var words = CompileNow(kernelName, source);
        _disk.Value?.Write(source, words);
        return words;
    }

    private uint[] CompileNow(string kernelName, string source)
    {
        string stem = Path.Combine(Path.GetTempPath(),
            $"dataflow-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}-{ShaderCache.KeyOf(source)[..16]}");
        string input = stem + ".comp", output = stem + ".spv";
        File.WriteAllText(input, source);
        try
        {
            var (exit, log) = Run("-V", "--target-env", "vulkan1.0", "-o", output, input);
            log = log.Replace(input, "kernel.comp").Trim();
            if (exit != 0 || !File.Exists(output))
                throw new KernelCompileException("vulkan", kernelName, log + "\n--- source ---\n" + IShaderCompiler.Numbered(source));
            var bytes = File.ReadAllBytes(output);
            var words = new uint[bytes.Length / 4];
            System.Buffer.BlockCopy(bytes, 0, words, 0, words.Length * 4);
            return words;
        }
        finally
        {
            File.Delete(input);
            File.Delete(output);
        }
    }

    /// <summary>Runs the command; its exit code and what it printed (it reports errors on standard output).</summary>
    private (int Exit, string Log) Run(params string[] args)
    {
        var start = new ProcessStartInfo(_path)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var arg in args) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new BackendUnavailableException($"vulkan: cannot start {_path}");
        var stderr = process.StandardError.ReadToEndAsync();
        string log = process.StandardOutput.ReadToEnd();
        process.WaitForExit();
        return (process.ExitCode, log + stderr.Result);
    }

    private static string? Search(string name)
    {
        foreach (var dir in (Environment.GetEnvironmentVariable("PATH") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(dir, name);
            if (File.Exists(candidate)) return candidate;
        }
        return null;
    }
}
