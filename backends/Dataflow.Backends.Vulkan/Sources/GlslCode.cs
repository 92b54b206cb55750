using System.Text;
using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// The GLSL dialect (<see cref="GlslDialect"/>) under short names, for the generators still
/// written in GLSL alone (matmul, reduction, attention); the rest come from the shared emitters.
/// </summary>
internal static class GlslCode
{
    private static readonly CDialect Dialect = CDialect.Glsl;

    /// <inheritdoc cref="GlslDialect.Preamble"/>
    public static StringBuilder Preamble(string what, int x, int y = 1, int z = 1) => GlslDialect.Preamble(what, x, y, z);

    /// <inheritdoc cref="GlslDialect.Buffer"/>
    public static void Buffer(StringBuilder sb, int binding, string type, string name, bool readOnly) => GlslDialect.Buffer(sb, binding, type, name, readOnly);

    /// <inheritdoc cref="GlslDialect.GridLoop"/>
    public static void GridLoop(StringBuilder sb, long n, string body) => GlslDialect.GridLoop(sb, n, body);

    /// <inheritdoc cref="GlslDialect.FloatHelpers"/>
    public const string Helpers = GlslDialect.FloatHelpers;

    public static string Float(float v) => Dialect.Float(v);

    public static string UInt(long v) => Dialect.Index(v);

    /// <inheritdoc cref="CDialect.StridedIndex"/>
    public static string StridedIndex(string linear, long[] dims, long[] strides) => Dialect.StridedIndex(linear, dims, strides);

    /// <inheritdoc cref="CDialect.BroadcastIndex"/>
    public static string BroadcastIndex(string linear, long[] input, long[] output) => Dialect.BroadcastIndex(linear, input, output);
}
