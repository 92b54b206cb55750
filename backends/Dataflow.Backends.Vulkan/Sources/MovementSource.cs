using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// Reshape, Expand and Permute as one gather-copy each: an invocation per output element reads the
/// source element its baked index expression names. Elements move as raw 32-bit ints, so the same
/// shader serves f32 and i32 and keeps every bit (NaN payloads included).
/// </summary>
internal static class MovementSource
{
    public static KernelSource Generate(OpKernelSpec spec, int group)
    {
        var input = spec.Inputs[0];
        long n = spec.Output.Elements;
        string index = spec.Op switch
        {
            OpCode.Reshape => "i",
            OpCode.Expand => GlslCode.BroadcastIndex("i", input.Shape, spec.Output.Shape),
            OpCode.Permute => PermuteIndex(input.Shape, spec.Attrs.Perm.ToArray()),
            _ => throw new NotSupportedException($"movement: {spec.DisplayName} is not a movement op"),
        };
        var sb = GlslCode.Preamble(spec.DisplayName, group);
        GlslCode.Buffer(sb, 0, "uint", "x", readOnly: true);
        GlslCode.Buffer(sb, 1, "uint", "y", readOnly: false);
        GlslCode.GridLoop(sb, n, $"y[i] = x[{index}];");
        return new KernelSource([sb.ToString()], [input.Elements, n], [n], [group]);
    }

    /// <summary>Output axis d is input axis perm[d]: walk the output, step through the input with the permuted strides.</summary>
    private static string PermuteIndex(long[] input, int[] perm)
    {
        var inStrides = TensorLayout.Strides(input);
        var dims = perm.Select(p => input[p]).ToArray();
        var strides = perm.Select(p => inStrides[p]).ToArray();
        var (cd, cs) = TensorLayout.Canonical(dims, strides);
        return GlslCode.StridedIndex("i", cd, cs);
    }
}
