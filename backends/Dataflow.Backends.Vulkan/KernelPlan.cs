namespace Dataflow.Backends.Vulkan;

/// <summary>
/// Which shader shapes suit a device. GPUs run invocations in lock-step groups with fast shared
/// memory and cheap barriers, so tiles and trees in shared memory pay off there. CPU drivers
/// (lavapipe) run a work-group on one thread as a loop vectorised across invocations; shared memory
/// is ordinary memory and each barrier splits that loop, so they want barrier-free shaders and a few
/// large tasks (each group costs a hand-off between threads).
/// </summary>
/// <param name="TiledMatMul">MatMul through shared-memory tiles rather than register blocks per invocation.</param>
/// <param name="ReduceSerialLimit">Reductions of at most this many elements per output run an invocation per output; longer ones a work-group tree.</param>
/// <param name="Group">Invocations per group for shaders that do not need a particular size.</param>
/// <param name="GroupsPerCore">Grid-stride shaders are dispatched with at most this many groups per core (0: as many as the work needs).</param>
internal sealed record KernelPlan(bool TiledMatMul, long ReduceSerialLimit, int Group, int GroupsPerCore)
{
    public static readonly KernelPlan Gpu = new(TiledMatMul: true, ReduceSerialLimit: Engine.Backends.Sources.ReduceEmitter.SerialLimit, Group: 256, GroupsPerCore: 0);

    /// <summary>
    /// A group runs on one thread anyway, so a group-per-output tree adds no parallelism over an
    /// invocation per output, only barriers: every reduction runs serially. Elementwise shaders
    /// loop over their elements in a few groups per core.
    /// </summary>
    public static readonly KernelPlan Cpu = new(TiledMatMul: false, ReduceSerialLimit: long.MaxValue, Group: 64, GroupsPerCore: 4);

    /// <summary>The plan for a device kind as <see cref="VulkanDevices"/> names it: CPUs get <see cref="Cpu"/>, everything else <see cref="Gpu"/>.</summary>
    public static KernelPlan For(string kind) => kind == "cpu" ? Cpu : Gpu;
}
