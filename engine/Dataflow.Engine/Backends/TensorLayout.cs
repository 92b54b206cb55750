namespace Dataflow.Engine.Backends;

/// <summary>
/// Row-major layout arithmetic that every backend needs to turn a spec into index math: strides,
/// NumPy broadcast strides, and the canonical (merged) form of a strided view. Kept here, next to
/// the specs, so that device backends that generate code bake in the same numbers the CPU walks.
/// </summary>
public static class TensorLayout
{
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
    /// Strides for reading <paramref name="input"/> broadcast (lower rank aligned right) to
    /// <paramref name="output"/>: 0 along every broadcast axis. Extra leading size-1 axes are dropped.
    /// </summary>
    public static long[] BroadcastStrides(ReadOnlySpan<long> input, ReadOnlySpan<long> output)
    {
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
    /// Drops axes of size 1 and merges neighbours that are contiguous in both the walked shape and
    /// the strided source, so generated index math has as few divisions as possible.
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

    /// <summary>
    /// A reduction's walk as device kernels bake it in: drops size-1 axes and merges neighbours of
    /// the same kind (kept or reduced), then splits into the kept and the reduced groups with their
    /// strides in the input (the CPU backend's plan, minus its fast paths).
    /// </summary>
    public static (long[] Kept, long[] KeptStrides, long[] Reduced, long[] ReducedStrides) SplitReduction(long[] shape, IEnumerable<int> axes)
    {
        var axisSet = axes.ToHashSet();
        var dims = new List<long>();
        var isReduced = new List<bool>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            bool r = axisSet.Contains(i);
            if (dims.Count > 0 && isReduced[^1] == r) dims[^1] *= shape[i];
            else { dims.Add(shape[i]); isReduced.Add(r); }
        }
        var strides = Strides(dims.ToArray());
        var kd = new List<long>(); var ks = new List<long>(); var rd = new List<long>(); var rs = new List<long>();
        for (int i = 0; i < dims.Count; i++)
        {
            (isReduced[i] ? rd : kd).Add(dims[i]);
            (isReduced[i] ? rs : ks).Add(strides[i]);
        }
        return (kd.ToArray(), ks.ToArray(), rd.ToArray(), rs.ToArray());
    }
}
