using Dataflow.Engine.Backends;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>Kernels with no inputs: Constant, Iota, CausalMask, DropoutMask.</summary>
internal static class LeafSource
{
    /// <summary>
    /// (Entry points avoid the name <c>constant</c>: it is an address-space keyword in OpenCL C.)
    /// A scalar (the value, a bound dimension, or one-element data) is baked into the source as a
    /// literal; whole-tensor data stays with the kernel as a device buffer that each launch copies.
    /// Like the CPU, the value is written as a float whatever the output's dtype.
    /// </summary>
    public static KernelSource Constant(OpKernelSpec spec)
    {
        long n = spec.Output.Elements;
        var data = spec.Attrs.Data;
        if (data is not null && data.Length != 1 && data.Length != n)
            throw new ArgumentException($"constant: {data.Length} values do not fill {spec.Output}");
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(n));
        if (data is not null && data.Length == n && n > 1)
        {
            sb.Append($$"""
                __kernel void constant_data(__global float* y, __global const float* data)
                {
                    const idx_t i = get_global_id(0);
                    if (i < {{ClCode.Int(n)}}) y[i] = data[i];
                }

                """);
            return new KernelSource(sb.ToString(), ["constant_data"], [n], [n], Baked: data);
        }

        float value = data is not null ? data[0] : spec.Attrs.Count is not null ? spec.Count : (float)spec.Attrs.Value;
        sb.Append($$"""
            __kernel void constant_fill(__global float* y)
            {
                const idx_t i = get_global_id(0);
                if (i < {{ClCode.Int(n)}}) y[i] = {{ClCode.Float(value)}};
            }

            """);
        return new KernelSource(sb.ToString(), ["constant_fill"], [n], [n]);
    }

    public static KernelSource Iota(OpKernelSpec spec)
    {
        long n = spec.Output.Elements;
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(n));
        sb.Append($$"""
            __kernel void iota(__global int* y)
            {
                const idx_t i = get_global_id(0);
                if (i < {{ClCode.Int(n)}}) y[i] = (int)i;
            }

            """);
        return new KernelSource(sb.ToString(), ["iota"], [n], [n]);
    }

    /// <summary>[T, T]: 0 on and below the diagonal, -inf above it.</summary>
    public static KernelSource CausalMask(OpKernelSpec spec)
    {
        long t = spec.Output.Shape[^1];
        long n = t * t;
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(n));
        sb.Append($$"""
            __kernel void causal_mask(__global float* y)
            {
                const idx_t i = get_global_id(0);
                if (i < {{ClCode.Int(n)}}) y[i] = (i % {{ClCode.Int(t)}} > i / {{ClCode.Int(t)}}) ? (-INFINITY) : 0.0f;
            }

            """);
        return new KernelSource(sb.ToString(), ["causal_mask"], [n], [n]);
    }

    /// <summary>
    /// <see cref="CounterRng"/> in OpenCL C, in the same 32-bit unsigned arithmetic, so the mask is
    /// the CPU's bit for bit. The keep scale 1/(1-p) is computed on the host and baked in, since a
    /// device division need not be correctly rounded. The seed arrives per launch as two uints.
    /// </summary>
    public static KernelSource DropoutMask(OpKernelSpec spec)
    {
        long n = spec.Output.Elements;
        float p = (float)spec.Attrs.Value;
        float keep = 1.0f / (1.0f - p);
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(n));
        sb.Append($$"""
            inline uint df_hash(uint seed_lo, uint seed_hi, uint index)
            {
                uint x = index * 0x9E3779B9u ^ seed_lo ^ (seed_hi * 0x85EBCA6Bu);
                x ^= x >> 16;
                x *= 0x7FEB352Du;
                x ^= x >> 15;
                x *= 0x846CA68Bu;
                x ^= x >> 16;
                return x;
            }

            __kernel void dropout_mask(__global float* y, const uint seed_lo, const uint seed_hi)
            {
                const idx_t i = get_global_id(0);
                if (i >= {{ClCode.Int(n)}}) return;
                const float u = (float)(df_hash(seed_lo, seed_hi, (uint)i) >> 8) * (1.0f / 16777216.0f);
                y[i] = u >= {{ClCode.Float(p)}} ? {{ClCode.Float(keep)}} : 0.0f;
            }

            """);
        return new KernelSource(sb.ToString(), ["dropout_mask"], [n], [n], Scalars: ScalarArgs.Seed);
    }
}
