namespace Dataflow.Backends.Vulkan.Sources;

/// <summary>Which per-launch values a kernel takes as push constants (32-bit words after the buffers' bindings).</summary>
internal enum PushArgs { None, Seed, Sgd, Adam, Pass }

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
    PushArgs Push = PushArgs.None,
    float[]? Baked = null,
    long ItemIterations = 0,
    int Passes = 1)
{
    public int OptionalTrailingBuffers => Sources.Length - 1;

    /// <summary>Bytes of push constants the shaders declare.</summary>
    public uint PushBytes => Push switch
    {
        PushArgs.Seed => 2 * 4,
        PushArgs.Sgd => 4 * 4,
        PushArgs.Adam => 11 * 4,
        PushArgs.Pass => 4,
        _ => 0,
    };
}

/// <summary>
/// How many loop iterations one shader invocation may run in all. Unlimited on GPUs; Mesa's
/// llvmpipe (lavapipe) before 23.x stops every invocation after 65535 iterations summed over all
/// its loops, silently, so generators keep each invocation's loops within the budget: more groups
/// for grid loops, wider trees for long reductions, and long contractions split into passes.
/// </summary>
internal static class LoopBudget
{
    /// <summary>Iterations one pass of a chunked loop runs: a quarter of the budget, leaving room for the loops around it.</summary>
    public static long Chunk(long budget) => Math.Max(1, budget / 4);

    /// <summary>Passes that cover <paramref name="iterations"/> in chunks of <see cref="Chunk"/>.</summary>
    public static int Passes(long iterations, long budget) => (int)Math.Max(1, (iterations + Chunk(budget) - 1) / Chunk(budget));
}
