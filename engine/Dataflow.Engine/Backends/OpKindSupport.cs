using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Backends;

/// <summary>
/// Whether a backend runs a single-op kernel, from the op's kind rather than a list of ops, so a new
/// op of a kind the backends already run needs no entry in any backend: leaves, reductions, movement,
/// contractions and index ops run as single-op kernels; inputs and parameters are fed, never
/// computed; elementwise ops arrive fused (<see cref="FusedElementwiseSpec"/>). Every backend's
/// <see cref="IBackend.SupportsOp"/> asks this for an <see cref="OpKernelSpec"/>; what else a
/// backend runs (pattern kernels, optimizer steps) and the limits of one device it adds itself.
/// </summary>
public static class OpKindSupport
{
    public static Support Of(OpKernelSpec op, string backend) => op.Op switch
    {
        OpCode.Input or OpCode.Parameter => Support.No($"{op.DisplayName} is fed by the engine, not computed"),
        _ => OpCatalog.Get(op.Op).Kind switch
        {
            OpKind.Elementwise => Support.No($"{op.DisplayName} is elementwise; the engine sends it as a fused elementwise kernel"),
            OpKind.Leaf or OpKind.Reduction or OpKind.Movement or OpKind.Contraction or OpKind.Index => Support.Yes,
            var kind => Support.No($"{backend} has no kernel for {op.DisplayName} ({kind})"),
        },
    };
}
