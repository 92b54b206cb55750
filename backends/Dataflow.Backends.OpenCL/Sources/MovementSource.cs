using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// Reshape, Expand and Permute as one gather-copy each: a work-item per output element reads the
/// source element its baked index expression names. Elements move as raw 32-bit ints, so the same
/// kernel serves f32 and i32 and keeps every bit (NaN payloads included).
/// </summary>
internal static class MovementSource
{
    public static KernelSource Generate(OpKernelSpec spec)
    {
        var input = spec.Inputs[0];
        long n = spec.Output.Elements;
        string index = spec.Op switch
        {
            OpCode.Reshape => "i",
            OpCode.Expand => ClCode.BroadcastIndex("i", input.Shape, spec.Output.Shape),
            OpCode.Permute => PermuteIndex(input.Shape, spec.Attrs.Perm.ToArray()),
            _ => throw new NotSupportedException($"movement: {spec.DisplayName} is not a movement op"),
        };
        var sb = ClCode.Preamble(spec.Key, ClCode.Wide(input.Elements, n));
        sb.Append($$"""
            __kernel void move(__global const int* x, __global int* y)
            {
                const idx_t i = get_global_id(0);
                if (i >= {{ClCode.Int(n)}}) return;
                y[i] = x[{{index}}];
            }

            """);
        return new KernelSource(sb.ToString(), ["move"], [input.Elements, n], [n]);
    }

    /// <summary>Output axis d is input axis perm[d]: walk the output, step through the input with the permuted strides.</summary>
    private static string PermuteIndex(long[] input, int[] perm)
    {
        var inStrides = TensorLayout.Strides(input);
        var dims = perm.Select(p => input[p]).ToArray();
        var strides = perm.Select(p => inStrides[p]).ToArray();
        var (cd, cs) = TensorLayout.Canonical(dims, strides);
        return ClCode.StridedIndex("i", cd, cs);
    }
}
