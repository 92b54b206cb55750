using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Backends.Sources;

/// <summary>
/// The one choice of emitter for a kernel spec, shared by the generated-source backends: each
/// renders the result through its own dialect and launches it its own way, and passes its
/// device-dependent sizes in an <see cref="EmitPlan"/>. A new non-elementwise op is one line here.
/// </summary>
public static class KernelEmitter
{
    public static EmittedKernel Emit(KernelSpec spec, CDialect dialect, EmitPlan plan) => spec switch
    {
        FusedElementwiseSpec fused => FusedElementwiseEmitter.Generate(fused, dialect),
        OptimizerStepSpec step => OptimizerEmitter.Generate(step, dialect),
        OpKernelSpec op => op.Op switch
        {
            OpCode.Constant => LeafEmitter.Constant(op, dialect),
            OpCode.Iota => LeafEmitter.Iota(op, dialect),
            OpCode.CausalMask => LeafEmitter.CausalMask(op, dialect),
            OpCode.DropoutMask => LeafEmitter.DropoutMask(op, dialect),
            OpCode.ReduceSum or OpCode.ReduceMax => ReduceEmitter.Generate(op, dialect, plan.Group, plan.ReduceSerialLimit, plan.LoopBudget, plan.MaxGroup),
            OpCode.Reshape or OpCode.Permute or OpCode.Expand => MovementEmitter.Generate(op, dialect),
            OpCode.MatMul => plan.BlockedMatMul is { } blocks
                ? MatMulEmitter.Blocked(op, dialect, blocks, plan.LoopBudget)
                : MatMulEmitter.Tiled(op, dialect, plan.Tile, plan.LoopBudget),
            OpCode.Gather => IndexEmitter.Gather(op, dialect),
            OpCode.ScatterAdd => IndexEmitter.ScatterAdd(op, dialect, plan.Parallelism, plan.LoopBudget),
            OpCode.OneHot => IndexEmitter.OneHot(op, dialect),
            OpCode.StoreRows => IndexEmitter.StoreRows(op, dialect),
            OpCode.CachedAttention => AttentionEmitter.CachedAttention(op, dialect),
            _ => throw new NotSupportedException($"{plan.Backend}: no kernel for {op.DisplayName}"),
        },
        _ => throw new NotSupportedException($"{plan.Backend}: unknown kernel spec {spec.GetType().Name}"),
    };
}
