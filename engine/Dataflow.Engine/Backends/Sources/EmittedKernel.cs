namespace Dataflow.Engine.Backends.Sources;

/// <summary>Which per-launch values a kernel takes after its buffers (OpenCL arguments, Vulkan push constants).</summary>
public enum LaunchScalars { None, Seed, Sgd, Adam, Pass }

/// <summary>A buffer an entry point declares: its element type (<c>float</c>, <c>int</c>, <c>uint</c>) and name.</summary>
public sealed record KernelBuffer(string Type, string Name, bool ReadOnly = false);

/// <summary>A per-launch scalar an entry point declares.</summary>
public sealed record KernelScalar(string Type, string Name);

/// <summary>
/// One entry point that runs <see cref="Body"/> (statements over the element index <c>i</c>) once
/// for each i below <see cref="Count"/>; the dialect decides how (a bounds-checked work-item per
/// element in OpenCL, a grid-stride loop in GLSL). <see cref="Helpers"/> are definitions the body
/// calls, placed before the entry point.
/// </summary>
public sealed record ElementKernel(string Entry, KernelBuffer[] Buffers, long Count, string Body, KernelScalar[]? Scalars = null, string Helpers = "");

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
    ElementKernel[] Kernels,
    long[] BufferElements,
    long[] Global,
    LaunchScalars Scalars = LaunchScalars.None,
    float[]? Baked = null,
    long ItemIterations = 0,
    int Passes = 1)
{
    /// <summary>What bodies call the baked data.</summary>
    public const string BakedName = "data";

    /// <summary>A kernel of one entry point over <paramref name="kernel"/>'s count.</summary>
    public static EmittedKernel Of(ElementKernel kernel, long[] bufferElements, LaunchScalars scalars = LaunchScalars.None) =>
        new([kernel], bufferElements, [kernel.Count], scalars);
}
