using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan;

/// <summary>Turns GLSL compute shaders into SPIR-V; a failed compile is <see cref="KernelCompileException"/> with the compiler's log.</summary>
internal interface IShaderCompiler
{
    /// <summary>What compiles, for <c>dataflow devices</c> and logs.</summary>
    string Name { get; }

    uint[] Compile(string kernelName, string source);

    /// <summary>
    /// libshaderc in process where it loads; otherwise glslangValidator, the same glslang front end
    /// as a command, where it is on the PATH. Neither: <see cref="BackendUnavailableException"/> with both reasons.
    /// </summary>
    static IShaderCompiler Open()
    {
        if (Shaderc.TryLoad(out var shadercProblem)) return Shaderc.Instance;
        if (GlslangValidator.TryFind(out var validator, out var validatorProblem)) return validator!;
        throw new BackendUnavailableException(
            $"vulkan: no GLSL compiler for the generated shaders: {shadercProblem}; and {validatorProblem}. " +
            "Install libshaderc1 or glslang-tools.");
    }

    /// <summary>The source with line numbers, as compile errors show it.</summary>
    static string Numbered(string source) =>
        string.Join('\n', source.Split('\n').Select((line, i) => $"{i + 1,4}: {line}"));
}
