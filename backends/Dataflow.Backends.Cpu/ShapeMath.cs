namespace Dataflow.Backends.Cpu;

/// <summary>Row-major shape arithmetic shared by the kernels.</summary>
internal static class ShapeMath
{
    public static long Elements(ReadOnlySpan<long> shape)
    {
        long n = 1;
        foreach (var d in shape) n *= d;
        return n;
    }

    public static long[] Strides(ReadOnlySpan<long> shape)
    {
        var strides = new long[shape.Length];
        long s = 1;
        for (int i = shape.Length - 1; i >= 0; i--)
        {
            strides[i] = s;
            s *= shape[i];
        }
        return strides;
    }

    /// <summary>
    /// Input strides for reading <paramref name="input"/> broadcast (NumPy rules, lower rank aligned
    /// right) to <paramref name="output"/>: the stride is 0 along every broadcast axis.
    /// </summary>
    public static long[] BroadcastStrides(ReadOnlySpan<long> input, ReadOnlySpan<long> output)
    {
        // Extra leading axes of size 1 carry no data ([1] read as a scalar); anything else cannot broadcast.
        while (input.Length > output.Length && input[0] == 1) input = input[1..];
        if (input.Length > output.Length) throw new ArgumentException($"cannot broadcast rank {input.Length} to rank {output.Length}");
        var own = Strides(input);
        var strides = new long[output.Length];
        int lead = output.Length - input.Length;
        for (int i = 0; i < input.Length; i++)
        {
            long d = input[i];
            if (d != output[lead + i] && d != 1)
                throw new ArgumentException($"cannot broadcast [{string.Join(",", input.ToArray())}] to [{string.Join(",", output.ToArray())}]");
            strides[lead + i] = d == 1 ? 0 : own[i];
        }
        return strides;
    }

    /// <summary>
    /// Drops axes of size 1 and merges neighbours that are contiguous in both the output and the
    /// strided source, so loops run over as few, as long axes as possible.
    /// </summary>
    public static (long[] Dims, long[] Strides) Canonical(ReadOnlySpan<long> dims, ReadOnlySpan<long> strides)
    {
        var d = new List<long>();
        var s = new List<long>();
        for (int i = 0; i < dims.Length; i++)
        {
            if (dims[i] == 1) continue;
            if (d.Count > 0 && s[^1] == strides[i] * dims[i])
            {
                d[^1] *= dims[i];
                s[^1] = strides[i];
            }
            else
            {
                d.Add(dims[i]);
                s.Add(strides[i]);
            }
        }
        return (d.ToArray(), s.ToArray());
    }
}
