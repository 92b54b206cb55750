using Dataflow.Engine.Backends;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// Gather, ScatterAdd and OneHot. Out-of-range indices behave as on the CPU: gather reads a zero
/// row, scatter skips the value, one-hot leaves a zero row.
/// </summary>
internal static class IndexSource
{
    public static KernelSource Gather(OpKernelSpec spec)
    {
        var table = spec.Inputs[0];
        long rows = table.Shape.Length == 0 ? 1 : table.Shape[0];
        long width = table.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        long n = spec.Output.Elements;
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(table.Elements, n));
        sb.Append($$"""
            __kernel void gather(__global const int* table, __global const int* index, __global int* y)
            {
                const idx_t e = get_global_id(0);
                if (e >= {{ClCode.Int(n)}}) return;
                const idx_t r = index[e / {{ClCode.Int(width)}}];
                y[e] = (r >= 0 && r < {{ClCode.Int(rows)}}) ? table[r * {{ClCode.Int(width)}} + e % {{ClCode.Int(width)}}] : 0;
            }

            """);
        return new KernelSource(sb.ToString(), ["gather"], [table.Elements, spec.Inputs[1].Elements, n], [n]);
    }

    /// <summary>
    /// Deterministic without atomics: every output element is owned by one work-item, which adds
    /// the values aimed at it in index order, the order the CPU adds them in, so the sums agree
    /// bit for bit. Two shapes of ownership: a work-item per output element scanning every index
    /// (parallel over rows × width, but rows × count work), or a work-item per column walking the
    /// indices once (count work, parallel over width only). The cheaper one for the device is generated.
    /// </summary>
    public static KernelSource ScatterAdd(OpKernelSpec spec, long parallelism)
    {
        long rows = spec.Count;
        long count = spec.Inputs[1].Elements;
        long width = count == 0 ? spec.Output.Shape.Skip(1).Aggregate(1L, (a, b) => a * b) : spec.Inputs[0].Elements / count;
        long n = rows * width;
        double perElement = (double)n * count / Math.Max(1, Math.Min(n, parallelism));
        double perColumn = (double)(count + rows) * Math.Ceiling((double)width / Math.Max(1, Math.Min(width, parallelism)));
        bool byColumn = perColumn < perElement;

        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(spec.Inputs[0].Elements, n));
        string w = ClCode.Int(width), r = ClCode.Int(rows), c = ClCode.Int(count);
        if (byColumn)
        {
            sb.Append($$"""
                __kernel void scatter_add(__global const float* values, __global const int* index, __global float* y)
                {
                    const idx_t j = get_global_id(0);
                    if (j >= {{w}}) return;
                    for (idx_t row = 0; row < {{r}}; row++) y[row * {{w}} + j] = 0.0f;
                    for (idx_t k = 0; k < {{c}}; k++)
                    {
                        const idx_t row = index[k];
                        if (row >= 0 && row < {{r}}) y[row * {{w}} + j] += values[k * {{w}} + j];
                    }
                }

                """);
            return new KernelSource(sb.ToString(), ["scatter_add"], [spec.Inputs[0].Elements, count, n], [width]);
        }

        sb.Append($$"""
            __kernel void scatter_add(__global const float* values, __global const int* index, __global float* y)
            {
                const idx_t e = get_global_id(0);
                if (e >= {{ClCode.Int(n)}}) return;
                const idx_t row = e / {{w}}, j = e % {{w}};
                float s = 0.0f;
                for (idx_t k = 0; k < {{c}}; k++)
                    if (index[k] == row) s += values[k * {{w}} + j];
                y[e] = s;
            }

            """);
        return new KernelSource(sb.ToString(), ["scatter_add"], [spec.Inputs[0].Elements, count, n], [n]);
    }

    public static KernelSource OneHot(OpKernelSpec spec)
    {
        long depth = spec.Count;
        long count = spec.Inputs[0].Elements;
        long n = count * depth;
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(n));
        sb.Append($$"""
            __kernel void one_hot(__global const int* index, __global float* y)
            {
                const idx_t e = get_global_id(0);
                if (e >= {{ClCode.Int(n)}}) return;
                y[e] = (index[e / {{ClCode.Int(depth)}}] == e % {{ClCode.Int(depth)}}) ? 1.0f : 0.0f;
            }

            """);
        return new KernelSource(sb.ToString(), ["one_hot"], [count, n], [n]);
    }

    /// <summary>store_rows in place: a work-item per value copies it into its row (the engine binds the target as the output).</summary>
    public static KernelSource StoreRows(OpKernelSpec spec)
    {
        var target = spec.Inputs[0];
        long rows = target.Shape[0];
        long width = target.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        long n = spec.Inputs[1].Elements;
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(target.Elements, n));
        sb.Append($$"""
            __kernel void store_rows(__global const float* target, __global const float* values, __global const int* index, __global float* y)
            {
                const idx_t e = get_global_id(0);
                if (e >= {{ClCode.Int(n)}}) return;
                const idx_t r = index[e / {{ClCode.Int(width)}}];
                if (r >= 0 && r < {{ClCode.Int(rows)}}) y[r * {{ClCode.Int(width)}} + e % {{ClCode.Int(width)}}] = values[e];
            }

            """);
        return new KernelSource(sb.ToString(), ["store_rows"], [target.Elements, n, spec.Inputs[2].Elements, spec.Output.Elements], [Math.Max(1, n)]);
    }
}
