using System.Text;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>Shaders with no inputs: Constant, Iota, CausalMask, DropoutMask.</summary>
internal static class LeafSource
{
    /// <summary>
    /// A scalar (the value, a bound dimension, or one-element data) is baked into the source as a
    /// literal; whole-tensor data stays with the kernel as a device buffer that each launch copies.
    /// Like the CPU, the value is written as a float whatever the output's dtype.
    /// </summary>
    public static KernelSource Constant(OpKernelSpec spec, int group)
    {
        long n = spec.Output.Elements;
        var data = spec.Attrs.Data;
        if (data is not null && data.Length != 1 && data.Length != n)
            throw new ArgumentException($"constant: {data.Length} values do not fill {spec.Output}");
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "float", "y", readOnly: false);
        if (data is not null && data.Length == n && n > 1)
        {
            GlslCode.Buffer(sb, 1, "float", "data", readOnly: true);
            GlslCode.GridLoop(sb, n, "y[i] = data[i];");
            return new KernelSource([sb.ToString()], [n], [n], [group], Baked: data);
        }
        float value = data is not null ? data[0] : spec.Attrs.Count is not null ? spec.Count : (float)spec.Attrs.Value;
        GlslCode.GridLoop(sb, n, $"y[i] = {GlslCode.Float(value)};");
        return new KernelSource([sb.ToString()], [n], [n], [group]);
    }

    public static KernelSource Iota(OpKernelSpec spec, int group)
    {
        long n = spec.Output.Elements;
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "int", "y", readOnly: false);
        GlslCode.GridLoop(sb, n, "y[i] = int(i);");
        return new KernelSource([sb.ToString()], [n], [n], [group]);
    }

    /// <summary>[T, T]: 0 on and below the diagonal, -inf above it.</summary>
    public static KernelSource CausalMask(OpKernelSpec spec, int group)
    {
        long t = spec.Output.Shape[^1];
        long n = t * t;
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "float", "y", readOnly: false);
        GlslCode.GridLoop(sb, n, $"y[i] = (i % {GlslCode.UInt(t)} > i / {GlslCode.UInt(t)}) ? {GlslCode.Float(float.NegativeInfinity)} : 0.0;");
        return new KernelSource([sb.ToString()], [n], [n], [group]);
    }

    /// <summary>
    /// <see cref="CounterRng"/> in GLSL, in the same 32-bit unsigned arithmetic, so the mask is the
    /// CPU's bit for bit. The keep scale 1/(1-p) is computed on the host and baked in, since a
    /// device division need not be correctly rounded. The seed arrives per launch as two push constants.
    /// </summary>
    public static KernelSource DropoutMask(OpKernelSpec spec, int group)
    {
        long n = spec.Output.Elements;
        float p = (float)spec.Attrs.Value;
        float keep = 1.0f / (1.0f - p);
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "float", "y", readOnly: false);
        sb.Append("""
            layout(push_constant) uniform Seed { uint seed_lo; uint seed_hi; };

            uint df_hash(uint index)
            {
                uint x = index * 0x9E3779B9u ^ seed_lo ^ (seed_hi * 0x85EBCA6Bu);
                x ^= x >> 16;
                x *= 0x7FEB352Du;
                x ^= x >> 15;
                x *= 0x846CA68Bu;
                x ^= x >> 16;
                return x;
            }

            """);
        GlslCode.GridLoop(sb, n,
            $"precise float u = float(df_hash(i) >> 8) * {GlslCode.Float(1.0f / 16777216.0f)};\n" +
            $"y[i] = u >= {GlslCode.Float(p)} ? {GlslCode.Float(keep)} : 0.0;");
        return new KernelSource([sb.ToString()], [n], [n], [group], Push: PushArgs.Seed);
    }
}
