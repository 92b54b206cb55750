namespace Dataflow.Engine.Backends;

/// <summary>
/// A backend that passes every call to another one: the base for wrappers that change one or two
/// calls (lend a backend without giving it away, inject a fault, record what was refused) and
/// would otherwise repeat the whole interface.
/// </summary>
public abstract class ForwardingBackend(IBackend inner) : IBackend
{
    protected IBackend Inner { get; } = inner;

    public virtual string Name => Inner.Name;
    public virtual DeviceInfo Device => Inner.Device;
    public virtual Support SupportsOp(KernelSpec spec) => Inner.SupportsOp(spec);
    public virtual IDeviceBuffer Allocate(long elements) => Inner.Allocate(elements);
    public virtual void Upload(IDeviceBuffer buffer, ReadOnlySpan<float> source, long offset = 0) => Inner.Upload(buffer, source, offset);
    public virtual void Upload(IDeviceBuffer buffer, ReadOnlySpan<int> source, long offset = 0) => Inner.Upload(buffer, source, offset);
    public virtual void Download(IDeviceBuffer buffer, Span<float> destination, long offset = 0) => Inner.Download(buffer, destination, offset);
    public virtual void Download(IDeviceBuffer buffer, Span<int> destination, long offset = 0) => Inner.Download(buffer, destination, offset);
    public virtual ICompiledKernel Compile(KernelSpec spec) => Inner.Compile(spec);
    public virtual void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch) => Inner.Enqueue(kernel, buffers, in launch);
    public virtual void Wait() => Inner.Wait();
    public virtual void Dispose() => Inner.Dispose();
}
