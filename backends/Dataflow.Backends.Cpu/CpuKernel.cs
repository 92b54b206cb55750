using Dataflow.Engine.Backends;

namespace Dataflow.Backends.Cpu;

/// <summary>
/// A compiled CPU kernel: everything derivable from the spec (strides, blocking, plans) is worked
/// out once here, so a launch only binds buffers and runs.
/// </summary>
internal abstract class CpuKernel : ICompiledKernel
{
    protected CpuKernel(KernelSpec spec, long[] bufferElements)
    {
        Spec = spec;
        BufferElements = bufferElements;
    }

    public KernelSpec Spec { get; }
    /// <summary>The elements each launch buffer must hold at least, in launch order.</summary>
    public long[] BufferElements { get; }

    /// <summary>Buffers whose count a kernel may leave off the end (SGD without momentum has no velocity).</summary>
    public virtual int OptionalTrailingBuffers => 0;

    public abstract void Run(ReadOnlySpan<CpuBuffer> buffers, in LaunchParams launch);
}
