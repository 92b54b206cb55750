namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>Which per-launch values a kernel takes as push constants (32-bit words after the buffers' bindings).</summary>
internal enum PushArgs { None, Seed, Sgd, Adam }

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
internal sealed record KernelSource(
    string[] Sources,
    long[] BufferElements,
    long[] Global,
    int[] Local,
    bool GridStride = true,
    PushArgs Push = PushArgs.None,
    float[]? Baked = null)
{
    public int OptionalTrailingBuffers => Sources.Length - 1;

    /// <summary>Bytes of push constants the shaders declare.</summary>
    public uint PushBytes => Push switch
    {
        PushArgs.Seed => 2 * 4,
        PushArgs.Sgd => 4 * 4,
        PushArgs.Adam => 11 * 4,
        _ => 0,
    };
}
