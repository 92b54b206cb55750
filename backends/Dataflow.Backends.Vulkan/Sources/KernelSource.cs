using Dataflow.Engine.Backends.Sources;

namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>
/// GLSL for one kernel spec and how to launch it. Bindings are the spec's buffers (inputs then
/// outputs), then the baked data buffer if there is one; per-launch scalars are push constants.
/// </summary>
/// <param name="Sources">Shaders: [0] for a full buffer list, [k] when the last k optional buffers are left off.</param>
/// <param name="BufferElements">Elements each launch buffer must hold at least.</param>
/// <param name="Global">Invocations wanted per dimension; dispatches round up to whole groups, shaders bounds-check.</param>
/// <param name="Local">The work-group size baked into the shaders.</param>
/// <param name="GridStride">
/// The shader loops over its work with a stride of the whole dispatch (first axis), so the backend
/// may dispatch fewer groups than <see cref="Global"/> asks for: to stay within the device's group
/// count limit, or to give a CPU driver a few large tasks instead of many small ones.
/// </param>
/// <param name="Baked">Data that belongs to the kernel (a constant tensor), uploaded once and bound after the buffers.</param>
/// <param name="ItemIterations">Loop iterations a grid-stride shader runs per item of its grid loop (a reduction's length, say), for sizing the dispatch within <see cref="LoopBudget"/>.</param>
/// <param name="Passes">
/// Dispatches per launch, each told its index by the push constant <c>pass_index</c>: a long loop
/// split into chunks that continue from what the previous pass stored (see <see cref="LoopBudget"/>).
/// </param>
internal sealed record KernelSource(
    string[] Sources,
    long[] BufferElements,
    long[] Global,
    int[] Local,
    bool GridStride = true,
    LaunchScalars Push = LaunchScalars.None,
    float[]? Baked = null,
    long ItemIterations = 0,
    int Passes = 1)
{
    public int OptionalTrailingBuffers => Sources.Length - 1;

    /// <summary>Bytes of push constants the shaders declare.</summary>
    public uint PushBytes => Push switch
    {
        LaunchScalars.Seed => 2 * 4,
        LaunchScalars.Sgd => 4 * 4,
        LaunchScalars.Adam => 11 * 4,
        LaunchScalars.Pass => 4,
        _ => 0,
    };

    /// <summary>A shared emitter's kernel rendered as GLSL, a shader per entry point, in groups of <paramref name="group"/>.</summary>
    public static KernelSource From(EmittedKernel e, string what, int group) =>
        new(CDialect.Glsl.Render(what, e, group), e.BufferElements, e.Global, e.Local is { } local ? [.. local.Select(l => (int)l)] : [group],
            GridStride: e.Strides, Push: e.Scalars, Baked: e.Baked,
            ItemIterations: e.ItemIterations, Passes: e.Passes);
}

