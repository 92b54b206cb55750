namespace Dataflow.Backends.OpenCL;

/// <summary>
/// Which kernel shapes suit a device. GPUs run work-items in lock-step groups with fast local
/// memory and cheap barriers, so tiles and trees in local memory pay off there. CPU drivers
/// (PoCL's pthread device) run a whole work-group on one thread as a loop over work-items; local
/// memory is ordinary memory and each barrier splits that loop, so they want register-blocked,
/// barrier-free kernels with explicit vector types instead.
/// </summary>
/// <param name="BlockedMatMul">MatMul as register blocks of C per work-item (<see cref="Sources.MatMulBlockedSource"/>) rather than local-memory tiles.</param>
/// <param name="ReduceSerialLimit">Reductions of at most this many elements per output run a work-item per output; longer ones a work-group tree.</param>
internal sealed record KernelPlan(bool BlockedMatMul, long ReduceSerialLimit)
{
    public static readonly KernelPlan Gpu = new(BlockedMatMul: false, ReduceSerialLimit: Sources.ReduceSource.SerialLimit);

    /// <summary>
    /// A work-group runs on one thread anyway, so a group-per-output tree adds no parallelism over
    /// a work-item per output, only barriers and a strided walk; every reduction runs serially.
    /// </summary>
    public static readonly KernelPlan Cpu = new(BlockedMatMul: true, ReduceSerialLimit: long.MaxValue);

    /// <summary>The plan for a device kind as <see cref="OpenClDevices"/> names it: CPUs get <see cref="Cpu"/>, everything else <see cref="Gpu"/>.</summary>
    public static KernelPlan For(string kind) => kind == "cpu" ? Cpu : Gpu;
}
