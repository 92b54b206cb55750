using System.Text;
using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// The OpenCL dialect (<see cref="OpenClDialect"/>) under short names, for the generators still
/// written in OpenCL C alone (matmul, reduction, attention); the rest come from the shared emitters.
/// </summary>
internal static class ClCode
{
    private static readonly CDialect Dialect = CDialect.OpenCl;

    /// <inheritdoc cref="OpenClDialect.Preamble"/>
    public static StringBuilder Preamble(string what, bool wide) => OpenClDialect.Preamble(what, wide);

    /// <inheritdoc cref="OpenClDialect.Wide"/>
    public static bool Wide(params long[] sizes) => OpenClDialect.Wide(sizes);

    public static string Float(float v) => Dialect.Float(v);

    public static string Int(long v) => Dialect.Index(v);

    /// <inheritdoc cref="CDialect.StridedIndex"/>
    public static string StridedIndex(string linear, long[] dims, long[] strides) => Dialect.StridedIndex(linear, dims, strides);

    /// <inheritdoc cref="CDialect.BroadcastIndex"/>
    public static string BroadcastIndex(string linear, long[] input, long[] output) => Dialect.BroadcastIndex(linear, input, output);
}
