using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.OpenCL;

/// <summary>
/// Which kernel shapes suit a device. GPUs run work-items in lock-step groups with fast local
/// memory and cheap barriers, so tiles and trees in local memory pay off there. CPU drivers
/// (PoCL's pthread device) run a whole work-group on one thread as a loop over its work-items;
/// local memory is ordinary memory and each barrier splits that loop, so they want register-blocked,
/// barrier-free kernels with explicit vector types, and few large groups (each group costs a task
/// hand-off, a few microseconds).
/// </summary>
/// <param name="BlockedMatMul">MatMul as register blocks of C per work-item of this shape (<see cref="MatMulEmitter.Blocked"/>), or null for local-memory tiles.</param>
/// <param name="ReduceSerialLimit">Reductions of at most this many elements per output run a work-item per output; longer ones a work-group tree.</param>
/// <param name="OpenGroup">The largest group for kernels that leave the group size open.</param>
/// <param name="GroupsPerComputeUnit">Open groups shrink (not below <paramref name="MinOpenGroup"/>) until a launch has this many groups per compute unit, so every unit has work.</param>
/// <param name="MinOpenGroup">The smallest group that shrinking for <paramref name="GroupsPerComputeUnit"/> goes down to.</param>
internal sealed record KernelPlan(MatMulBlocking? BlockedMatMul, long ReduceSerialLimit, long OpenGroup, long GroupsPerComputeUnit, long MinOpenGroup)
{
    public static readonly KernelPlan Gpu = new(BlockedMatMul: null, ReduceSerialLimit: Engine.Backends.Sources.ReduceEmitter.SerialLimit,
        OpenGroup: 256, GroupsPerComputeUnit: 0, MinOpenGroup: 256);

    /// <summary>
    /// A work-group runs on one thread anyway, so a group-per-output tree adds no parallelism over a
    /// work-item per output, only barriers and a strided walk: every reduction runs serially. Groups
    /// go up to 4096 work-items with at least 4 per core (PoCL vectorises across work-items in
    /// multiples of 8), so an elementwise kernel over 64K elements is 16 groups, not 256. MatMul
    /// work-items hold 4×16 outputs of C in float8 registers (8 ymm registers), or 4×2 float8 partial
    /// sums along K when B is transposed; row blocks come first, so a group (a run of row blocks of one
    /// column block, run back to back on one thread) keeps its strip of B in cache (measured on PoCL:
    /// 128×784·784×512 went from 10.8 to 5.9 ms against column blocks first).
    /// </summary>
    public static readonly KernelPlan Cpu = new(BlockedMatMul: new MatMulBlocking(Rows: 4, Width: 8, Vectors: 2, DotColumns: 2, RowsFirst: true), ReduceSerialLimit: long.MaxValue,
        OpenGroup: 4096, GroupsPerComputeUnit: 4, MinOpenGroup: 8);

    /// <summary>The plan for a device kind as <see cref="OpenClDevices"/> names it: CPUs get <see cref="Cpu"/>, everything else <see cref="Gpu"/>.</summary>
    public static KernelPlan For(string kind) => kind == "cpu" ? Cpu : Gpu;
}
