using System.Diagnostics;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// GLSL → SPIR-V through the glslangValidator command (glslang-tools): the fallback where libshaderc
/// cannot be loaded. Each compile writes the source to a private temporary folder and runs the
/// command once (about as long as the driver takes to build the pipeline); the shader cache keeps
/// that to once per distinct source.
/// </summary>
internal sealed class GlslangValidator : IShaderCompiler
{
    private static readonly Lazy<string?> Found = new(() => Search(OperatingSystem.IsWindows() ? "glslangValidator.exe" : "glslangValidator"));
    private readonly string _path;
    private readonly Lazy<DirectoryInfo> _scratch = new(() => Directory.CreateTempSubdirectory("dataflow-spirv-"));

    private GlslangValidator(string path) => _path = path;

    public string Name => "glslangValidator";

    public static bool TryFind(out GlslangValidator? compiler, out string? why)
    {
        compiler = Found.Value is { } path ? new GlslangValidator(path) : null;
        why = compiler is null ? "glslangValidator is not on the PATH" : null;
        return compiler is not null;
    }

    public uint[] Compile(string kernelName, string source)
    {
        string stem = Path.Combine(_scratch.Value.FullName, ShaderCache.KeyOf(source)[..16] + "-" + Environment.CurrentManagedThreadId);
        string input = stem + ".comp", output = stem + ".spv";
        File.WriteAllText(input, source);
        try
        {
            var start = new ProcessStartInfo(_path)
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (var arg in new[] { "-V", "--target-env", "vulkan1.0", "-o", output, input }) start.ArgumentList.Add(arg);
            using var process = Process.Start(start) ?? throw new BackendUnavailableException($"vulkan: cannot start {_path}");
            var stderr = process.StandardError.ReadToEndAsync();
            string log = process.StandardOutput.ReadToEnd();
            process.WaitForExit();
            log = (log + stderr.Result).Replace(input, "kernel.comp").Trim();
            if (process.ExitCode != 0 || !File.Exists(output))
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
