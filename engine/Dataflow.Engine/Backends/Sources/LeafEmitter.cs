namespace Dataflow.Engine.Backends.Sources;

/// <summary>Kernels with no inputs: Constant, Iota, CausalMask, DropoutMask.</summary>
public static class LeafEmitter
{
    /// <summary>
    /// A scalar (the value, a bound dimension, or one-element data) is baked into the source as a
    /// literal; whole-tensor data stays with the kernel as a device buffer that each launch reads.
    /// Like the CPU, the value is written as a float whatever the output's dtype. (Entry points
    /// avoid the name <c>constant</c>: it is an address-space keyword in OpenCL C.)
    /// </summary>
    public static EmittedKernel Constant(OpKernelSpec spec, CDialect d)
    {
        long n = spec.Output.Elements;
        var data = spec.Attrs.Data;
        if (data is not null && data.Length != 1 && data.Length != n)
            throw new ArgumentException($"constant: {data.Length} values do not fill {spec.Output}");
        KernelBuffer[] y = [new("float", "y")];
        if (data is not null && data.Length == n && n > 1)
            return EmittedKernel.Of(new("constant_data", y, n, $"y[i] = {EmittedKernel.BakedName}[i];"), [n]) with { Baked = data };
        float value = data is not null ? data[0] : spec.Attrs.Count is not null ? spec.Count : (float)spec.Attrs.Value;
        return EmittedKernel.Of(new("constant_fill", y, n, $"y[i] = {d.Float(value)};"), [n]);
    }

    public static EmittedKernel Iota(OpKernelSpec spec, CDialect d)
    {
        long n = spec.Output.Elements;
        return EmittedKernel.Of(new("iota", [new("int", "y")], n, $"y[i] = {d.Convert("int", "i")};"), [n]);
    }

    /// <summary>[T, T]: 0 on and below the diagonal, -inf above it.</summary>
    public static EmittedKernel CausalMask(OpKernelSpec spec, CDialect d)
    {
        long t = spec.Output.Shape[^1];
        long n = t * t;
        string body = $"y[i] = (i % {d.Index(t)} > i / {d.Index(t)}) ? {d.Float(float.NegativeInfinity)} : {d.Float(0f)};";
        return EmittedKernel.Of(new("causal_mask", [new("float", "y")], n, body), [n]);
    }

    /// <summary>
    /// <see cref="CounterRng"/> in the same 32-bit unsigned arithmetic, so the mask is the CPU's
    /// bit for bit. The keep scale 1/(1-p) is computed on the host and baked in, since a device
    /// division need not be correctly rounded. The seed arrives per launch as two uints.
    /// </summary>
    public static EmittedKernel DropoutMask(OpKernelSpec spec, CDialect d)
    {
        long n = spec.Output.Elements;
        float p = (float)spec.Attrs.Value;
        float keep = 1.0f / (1.0f - p);
        string body =
            $"{d.FloatLet} u = {d.Convert("float", $"df_hash(seed_lo, seed_hi, {d.Convert("uint", "i")}) >> 8")} * {d.Float(1.0f / 16777216.0f)};\n" +
            $"y[i] = u >= {d.Float(p)} ? {d.Float(keep)} : {d.Float(0f)};";
        var kernel = new ElementKernel("dropout_mask", [new("float", "y")], n, body,
            [new("uint", "seed_lo"), new("uint", "seed_hi")], Hash);
        return EmittedKernel.Of(kernel, [n], LaunchScalars.Seed);
    }

    /// <summary><see cref="CounterRng"/>'s mix, in arithmetic both dialects write alike.</summary>
    private const string Hash = """
        uint df_hash(uint lo, uint hi, uint index)
        {
            uint x = index * 0x9E3779B9u ^ lo ^ (hi * 0x85EBCA6Bu);
            x ^= x >> 16;
            x *= 0x7FEB352Du;
            x ^= x >> 15;
            x *= 0x846CA68Bu;
            x ^= x >> 16;
            return x;
        }
        """;
}
