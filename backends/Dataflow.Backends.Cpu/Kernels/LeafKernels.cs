using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu.Kernels;

/// <summary>Constant: the attribute data, a bound dimension, or a scalar, written to every element.</summary>
internal sealed class ConstantKernel : CpuKernel
{
    private readonly float[]? _data;
    private readonly float _value;

    public ConstantKernel(OpKernelSpec spec) : base(spec, [spec.Output.Elements])
    {
        _data = spec.Attrs.Data;
        _value = spec.Attrs.Data is not null ? 0f : spec.Attrs.Count is not null ? spec.Count : (float)spec.Attrs.Value;
        if (_data is not null && _data.Length != 1 && _data.Length != spec.Output.Elements)
            throw new ArgumentException($"constant: {_data.Length} values do not fill {spec.Output}");
    }

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        var output = buffers[0].Floats[..(int)BufferElements[0]];
        if (_data is null) output.Fill(_value);
        else if (_data.Length == 1) output.Fill(_data[0]);
        else _data.CopyTo(output);
    }
}

/// <summary>Iota: 0, 1, 2, ... as i32.</summary>
internal sealed class IotaKernel(OpKernelSpec spec) : CpuKernel(spec, [spec.Output.Elements])
{
    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        var output = buffers[0].Ints[..(int)BufferElements[0]];
        for (int i = 0; i < output.Length; i++) output[i] = i;
    }
}

/// <summary>CausalMask [T, T]: 0 on and below the diagonal, -inf above it (added to attention scores).</summary>
internal sealed class CausalMaskKernel(OpKernelSpec spec) : CpuKernel(spec, [spec.Output.Elements])
{
    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        int t = (int)Spec.As<OpKernelSpec>().Output.Shape[^1];
        var output = buffers[0].Floats;
        for (int row = 0; row < t; row++)
        {
            var line = output.Slice(row * t, t);
            line[..(row + 1)].Clear();
            line[(row + 1)..].Fill(float.NegativeInfinity);
        }
    }
}

/// <summary>DropoutMask: counter-based, so the mask depends only on (seed, index) and not on threading.</summary>
internal sealed unsafe class DropoutMaskKernel(OpKernelSpec spec) : CpuKernel(spec, [spec.Output.Elements])
{
    private readonly float _p = (float)spec.Attrs.Value;

    public override void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch)
    {
        float* output = buffers[0].Pointer;
        ulong seed = launch.Seed;
        float p = _p;
        Par.For((int)BufferElements[0], 8, (Output: (nint)output, Seed: seed, P: p), static (s, start, end) =>
        {
            float* output = (float*)s.Output;
            for (int i = start; i < end; i++) output[i] = CounterRng.DropoutKeep(s.Seed, (uint)i, s.P);
        });
    }
}

internal static class SpecExtensions
{
    public static T As<T>(this KernelSpec spec) where T : KernelSpec => (T)spec;
}
