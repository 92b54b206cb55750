using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.OpenCL.Sources;

/// <summary>
/// OpenCL C for one kernel spec and how to launch it. Arguments are the spec's buffers (inputs then
/// outputs), then the scalars of <see cref="Scalars"/>, then the baked data buffer if there is one.
/// </summary>
/// <param name="Entries">Entry points: [0] for a full buffer list, [k] when the last k optional buffers are left off.</param>
/// <param name="BufferElements">Elements each launch buffer must hold at least.</param>
/// <param name="Global">Work-items wanted per dimension; launches round up to the group size, kernels bounds-check.</param>
/// <param name="Local">A group size the source depends on (local-memory tiles and trees), or null to let the backend choose.</param>
/// <param name="Baked">Data that belongs to the kernel (a constant tensor), uploaded once and bound after the scalars.</param>
internal sealed record KernelSource(
    string Source,
    string[] Entries,
    long[] BufferElements,
    long[] Global,
    long[]? Local = null,
    LaunchScalars Scalars = LaunchScalars.None,
    float[]? Baked = null)
{
    public int OptionalTrailingBuffers => Entries.Length - 1;

    /// <summary>Work-items in a group, when the source fixes it.</summary>
    public long RequiredGroupSize => Local?.Aggregate(1L, (a, b) => a * b) ?? 1;

    /// <summary>A shared emitter's kernel rendered as one OpenCL C program.</summary>
    public static KernelSource From(EmittedKernel e, string what) =>
        new(CDialect.OpenCl.Render(what, e, group: 0)[0], [.. e.Kernels.Select(k => k.Entry)], e.BufferElements, e.Global,
            Local: e.Local, Scalars: e.Scalars, Baked: e.Baked);
}
