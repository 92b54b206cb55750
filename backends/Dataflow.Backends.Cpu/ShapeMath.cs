namespace Dataflow.Backends.Cpu;

/// <summary>Element counts of shapes; strides and broadcast views come from the engine's <c>TensorLayout</c>, shared with every backend.</summary>
internal static class ShapeMath
{
    public static long Elements(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }
}
