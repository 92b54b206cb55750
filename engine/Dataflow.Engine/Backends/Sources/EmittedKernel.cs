namespace Dataflow.Engine.Backends.Sources;

/// <summary>Which per-launch values a kernel takes after its buffers (OpenCL arguments, Vulkan push constants).</summary>
public enum LaunchScalars { None, Seed, Sgd, Adam, Pass }

/// <summary>A buffer an entry point declares: its element type (<c>float</c>, <c>int</c>, <c>uint</c>) and name.</summary>
public sealed record KernelBuffer(string Type, string Name, bool ReadOnly = false);

/// <summary>A per-launch scalar an entry point declares.</summary>
public sealed record KernelScalar(string Type, string Name);

/// <summary>An entry point: its buffers, how many items it covers, its body, and <see cref="Helpers"/> (definitions the body calls, placed before it).</summary>
public abstract record KernelEntry(string Entry, KernelBuffer[] Buffers, long Count, string Body, KernelScalar[]? Scalars, string Helpers);

/// <summary>
/// Runs <see cref="KernelEntry.Body"/> (statements over the element index <c>i</c>) once for each
/// i below <see cref="KernelEntry.Count"/>; the dialect decides how (a bounds-checked work-item per
/// element in OpenCL, a grid-stride loop in GLSL).
/// </summary>
public sealed record ElementKernel(string Entry, KernelBuffer[] Buffers, long Count, string Body, KernelScalar[]? Scalars = null, string Helpers = "")
    : KernelEntry(Entry, Buffers, Count, Body, Scalars, Helpers);

/// <summary>
/// Runs the body once per item <c>o</c> below <see cref="KernelEntry.Count"/> on a whole work-group
/// of <paramref name="Group"/> invocations, each knowing its index <c>lid</c> in the group, sharing
/// the <paramref name="Shared"/> arrays (of <paramref name="Group"/> elements) and synchronising with
/// <see cref="CDialect.Barrier"/>: trees in local memory.
/// </summary>
public sealed record GroupKernel(string Entry, KernelBuffer[] Buffers, long Count, int Group, KernelBuffer[] Shared, string Body, string Helpers = "")
    : KernelEntry(Entry, Buffers, Count, Body, null, Helpers);

/// <summary>A work-group's shared array (OpenCL <c>__local</c>, GLSL <c>shared</c>) of the given dimensions.</summary>
public sealed record SharedArray(string Type, string Name, long[] Dims);

/// <summary>
/// Runs the body once per work-item of a launch of up to three axes, with no loop around it: the
/// kernel is launched as <see cref="EmittedKernel.Global"/> work-items, rounded up to whole groups, so
/// the body bounds-checks (and may <c>return</c> where it holds no barrier). The body sees the global
/// ids <c>gx, gy, gz</c>, the ids in the group <c>lx, ly, lz</c> and the group's ids <c>wx, wy, wz</c>.
/// <paramref name="Group"/> is the group shape the body depends on (shared tiles), or null to let the
/// backend choose one along the first axis.
/// </summary>
public sealed record GridKernel(string Entry, KernelBuffer[] Buffers, string Body, int[]? Group = null, SharedArray[]? Shared = null,
    KernelScalar[]? Scalars = null, string Helpers = "")
    : KernelEntry(Entry, Buffers, 0, Body, Scalars, Helpers);

/// <summary>
/// What a shared emitter produces for one kernel spec, before a dialect renders it.
/// </summary>
/// <param name="Kernels">Entry points: [0] for a full buffer list, [k] when the last k optional buffers are left off.</param>
/// <param name="BufferElements">Elements each launch buffer must hold at least.</param>
/// <param name="Global">Work-items wanted per dimension.</param>
/// <param name="Scalars">The per-launch values every entry point declares after its buffers.</param>
/// <param name="Baked">Data that belongs to the kernel (a constant tensor), uploaded once and bound after the buffers and scalars; bodies read it as <see cref="BakedName"/>.</param>
/// <param name="ItemIterations">Loop iterations one element runs (a reduction's length, say), for sizing a dispatch within a loop budget (<see cref="LoopBudget"/>).</param>
/// <param name="Passes">Dispatches per launch, each told its index by the scalar <c>pass_index</c> (<see cref="LaunchScalars.Pass"/>).</param>
public sealed record EmittedKernel(
    KernelEntry[] Kernels,
    long[] BufferElements,
    long[] Global,
    LaunchScalars Scalars = LaunchScalars.None,
    float[]? Baked = null,
    long ItemIterations = 0,
    int Passes = 1)
{
    /// <summary>What bodies call the baked data.</summary>
    public const string BakedName = "data";

    /// <summary>The group shape the kernel's source depends on, per axis (a <see cref="GroupKernel"/>'s or a <see cref="GridKernel"/>'s), or null where any will do.</summary>
    public long[]? Local => Kernels.Select(k => k switch
    {
        GroupKernel tree => [tree.Group],
        GridKernel { Group: { } shape } => shape.Select(x => (long)x).ToArray(),
        _ => null,
    }).FirstOrDefault(l => l is not null);

    /// <summary>Whether the entry points loop over their work (grid-stride or group-stride), so a backend may launch fewer groups than <see cref="Global"/> asks for.</summary>
    public bool Strides => !Kernels.Any(k => k is GridKernel);

    /// <summary>A kernel of one entry point over <paramref name="kernel"/>'s count.</summary>
    public static EmittedKernel Of(ElementKernel kernel, long[] bufferElements, LaunchScalars scalars = LaunchScalars.None) =>
        new([kernel], bufferElements, [kernel.Count], scalars);
}
