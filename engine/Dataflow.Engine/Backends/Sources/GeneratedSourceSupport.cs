using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// The one SupportsOp rule of the generated-source backends (OpenCL, Vulkan), derived from op
/// kinds rather than listed op by op, so a new op of a kind they generate needs no entry here:
/// leaves, reductions, movement, contractions and index ops run as single-op kernels; elementwise
/// ops arrive fused (<see cref="FusedElementwiseSpec"/>, from <see cref="ElementwiseEmitter"/>).
/// Limits of one device (buffer sizes) the backend checks after this.
/// </summary>
public static class GeneratedSourceSupport
{
    public static Support ByKind(KernelSpec spec, string backend) => spec switch
    {
        OpKernelSpec op => op.Op switch
        {
            OpCode.Input or OpCode.Parameter => Support.No($"{op.DisplayName} is fed by the engine, not computed"),
            _ => OpCatalog.Get(op.Op).Kind switch
            {
                OpKind.Elementwise => Support.No($"{op.DisplayName} is elementwise; the engine sends it as a fused elementwise kernel"),
                OpKind.Leaf or OpKind.Reduction or OpKind.Movement or OpKind.Contraction or OpKind.Index => Support.Yes,
                var kind => Support.No($"{backend} has no kernel for {op.DisplayName} ({kind})"),
            },
        },
        FusedElementwiseSpec fused => fused.Program.All(i => i.Op != FusedOp.Compute || ElementwiseEmitter.Supports(i.Code))
            ? Support.Yes : Support.No($"{backend}: {fused.DisplayName} has an instruction that is not elementwise"),
        OptimizerStepSpec => Support.Yes,
        _ => Support.No($"unknown kernel spec {spec.GetType().Name}"),
    };
}
