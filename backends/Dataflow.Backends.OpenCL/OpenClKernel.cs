using Dataflow.Backends.OpenCL.Sources;
using Dataflow.Engine.Backends;

namespace Dataflow.Backends.OpenCL;

/// <summary>
/// A spec compiled for one device: its generated source (shown at <c>--verbose 4</c>), the cl_kernel
/// of each entry point, and the launch geometry worked out at compile time, so a launch only binds
/// arguments and enqueues.
/// </summary>
public sealed class OpenClKernel : ICompiledKernel
{
    internal OpenClKernel(OpenClBackend owner, KernelSpec spec, KernelSource source, nint[] kernels, long[] local, nint baked)
    {
        Owner = owner;
        Spec = spec;
        Plan = source;
        Kernels = kernels;
        Local = local;
        Baked = baked;
        Global = source.Global.Select((g, d) => (g + local[d] - 1) / local[d] * local[d]).ToArray();
    }

    public KernelSpec Spec { get; }

    /// <summary>The OpenCL C this kernel was built from.</summary>
    public string Source => Plan.Source;

    public string? GeneratedSource => Source;

    /// <summary>Work-items per group, per dimension.</summary>
    public IReadOnlyList<long> LocalSize => Local;

    internal OpenClBackend Owner { get; }
    internal KernelSource Plan { get; }

    /// <summary>One cl_kernel per entry of <see cref="KernelSource.Entries"/>.</summary>
    internal nint[] Kernels { get; }

    internal long[] Local { get; }

    /// <summary>Global sizes rounded up to whole groups.</summary>
    internal long[] Global { get; }

    /// <summary>The device copy of <see cref="KernelSource.Baked"/>, or 0.</summary>
    internal nint Baked { get; }

    internal bool IsEmpty => Plan.Global.Any(g => g == 0);
}
