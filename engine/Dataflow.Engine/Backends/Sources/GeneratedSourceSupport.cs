using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// The one SupportsOp rule of the generated-source backends (OpenCL, Vulkan): single-op kernels by
/// op kind (<see cref="OpKindSupport"/>, the rule every backend shares), fused elementwise programs
/// whose instructions <see cref="ElementwiseEmitter"/> has expressions for, and the optimizer step.
/// Limits of one device (buffer sizes) the backend checks after this.
/// </summary>
public static class GeneratedSourceSupport
{
    public static Support ByKind(KernelSpec spec, string backend) => spec switch
    {
        // A bf16 key/value cache (bf16x2 elements) is read and written by the cpu backend's kernels alone.
        OpKernelSpec op when op.Inputs.Append(op.Output).Any(t => t.DType == DType.Bf16x2) =>
            Support.No($"{backend}: {op.DisplayName} reads or writes a bf16 key/value cache (bf16x2), which only the cpu backend keeps"),
        OpKernelSpec op => OpKindSupport.Of(op, backend),
        FusedElementwiseSpec fused => fused.Program.All(i => i.Op != FusedOp.Compute || ElementwiseEmitter.Supports(i.Code))
            ? Support.Yes : Support.No($"{backend}: {fused.DisplayName} has an instruction that is not elementwise"),
        OptimizerStepSpec => Support.Yes,
        _ => Support.No($"unknown kernel spec {spec.GetType().Name}"),
    };
}
