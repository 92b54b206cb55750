using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Which shader shapes suit a device. GPUs run invocations in lock-step groups with fast shared
/// memory and cheap barriers, so tiles and trees in shared memory pay off there. CPU drivers
/// (lavapipe) run a work-group on one thread as a loop vectorised across invocations; shared memory
/// is ordinary memory and each barrier splits that loop, so they want barrier-free shaders and a few
/// large tasks (each group costs a hand-off between threads).
/// </summary>
/// <param name="BlockedMatMul">MatMul as register blocks of C per invocation of this shape (<see cref="MatMulEmitter.Blocked"/>), or null for shared-memory tiles.</param>
/// <param name="ReduceSerialLimit">Reductions of at most this many elements per output run an invocation per output; longer ones a work-group tree.</param>
/// <param name="Group">Invocations per group for shaders that do not need a particular size.</param>
/// <param name="GroupsPerCore">Grid-stride shaders are dispatched with at most this many groups per core (0: as many as the work needs).</param>
internal sealed record KernelPlan(MatMulBlocking? BlockedMatMul, long ReduceSerialLimit, int Group, int GroupsPerCore)
{
    public static readonly KernelPlan Gpu = new(BlockedMatMul: null, ReduceSerialLimit: Engine.Backends.Sources.ReduceEmitter.SerialLimit, Group: 256, GroupsPerCore: 0);

    /// <summary>
    /// A group runs on one thread anyway, so a group-per-output tree adds no parallelism over an
    /// invocation per output, only barriers: every reduction runs serially. Elementwise shaders
    /// loop over their elements in a few groups per core. MatMul invocations hold an 8×8 block of C in
    /// scalars, column blocks first: lavapipe vectorises across invocations and loads a per-invocation
    /// address one lane at a time, so loads, not arithmetic, bound the speed, and each element an
    /// invocation loads feeds 8 multiply-adds (measured on lavapipe, 128×784·784×512 under load:
    /// 440 ms with a 4×1 block, 125 ms with 8×8; 16×8 is no faster).
    /// </summary>
    public static readonly KernelPlan Cpu = new(BlockedMatMul: new MatMulBlocking(Rows: 8, Width: 1, Vectors: 8, DotColumns: 8, RowsFirst: false), ReduceSerialLimit: long.MaxValue, Group: 64, GroupsPerCore: 4);

    /// <summary>The plan for a device kind as <see cref="VulkanDevices"/> names it: CPUs get <see cref="Cpu"/>, everything else <see cref="Gpu"/>.</summary>
    public static KernelPlan For(string kind) => kind == "cpu" ? Cpu : Gpu;
}
