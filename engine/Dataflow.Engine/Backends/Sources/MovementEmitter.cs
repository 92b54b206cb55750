using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// Reshape, Expand and Permute as one gather-copy each: an element's work reads the source element
/// its baked index expression names. Elements move as raw 32-bit words, so the same kernel serves
/// f32 and i32 and keeps every bit (NaN payloads included).
/// </summary>
public static class MovementEmitter
{
    public static EmittedKernel Generate(OpKernelSpec spec, CDialect d)
    {
        var input = spec.Inputs[0];
        long n = spec.Output.Elements;
        string index = spec.Op switch
        {
            OpCode.Reshape => "i",
            OpCode.Expand => d.BroadcastIndex("i", input.Shape, spec.Output.Shape),
            OpCode.Permute => d.PermuteIndex("i", input.Shape, spec.Attrs.Perm.ToArray()),
            _ => throw new NotSupportedException($"movement: {spec.DisplayName} is not a movement op"),
        };
        var kernel = new ElementKernel("move", [new("uint", "x", ReadOnly: true), new("uint", "y")], n, $"y[i] = x[{index}];");
        return EmittedKernel.Of(kernel, [input.Elements, n]);
    }
}
