namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// What differs between the C-style languages the generated-source backends compile (OpenCL C,
/// GLSL) as far as <see cref="ElementwiseEmitter"/> is concerned: how an exact float literal is
/// written. Types, qualifiers, buffer declarations and the <c>df_*</c> helpers' bodies stay with
/// each backend, which defines every helper <see cref="ElementwiseEmitter.Helpers"/> names.
/// </summary>
/// <param name="Name">The language, for messages.</param>
/// <param name="Float">An exact literal of the float, parenthesised where a sign could bind wrongly.</param>
public sealed record CDialect(string Name, Func<float, string> Float);
