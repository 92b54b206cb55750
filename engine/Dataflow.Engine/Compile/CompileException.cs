namespace Dataflow.Engine.Compile;

/// <summary>A graph cannot be compiled with the given shapes or backend; the message names the tensor or kernel.</summary>
public sealed class CompileException(string message) : Exception(message);
