namespace Dataflow.Engine.Backends;

/// <summary>
/// The checks every backend (CPU, OpenCL, Vulkan) makes on an Enqueue before it binds anything: the
/// kernel is its own, the buffer count fits one of the kernel's entry points, and each buffer is its
/// own, alive and large enough. One place, so all backends refuse a bad launch with the same
/// exception and message (prefixed by the backend's name). Nothing here allocates unless it throws
/// (the kernel's name is built only for the message): a decode step launches hundreds of kernels,
/// and the CPU's training step is held to no allocation at all.
/// </summary>
public static class LaunchCheck
{
    /// <summary>The kernel as the backend's own type, or an <see cref="ArgumentException"/> when another backend compiled it.</summary>
    public static TKernel Kernel<TKernel>(string backend, IBackend owner, ICompiledKernel kernel, Func<TKernel, IBackend> ownerOf)
        where TKernel : class, ICompiledKernel =>
        kernel is TKernel own && ReferenceEquals(ownerOf(own), owner)
            ? own
            : throw new ArgumentException($"{backend}: kernel {kernel.Spec.DisplayName} was not compiled by this {backend} backend", nameof(kernel));

    /// <summary>
    /// The kernel as the backend's own type, or the same <see cref="ArgumentException"/> when another kind of
    /// backend compiled it: for kernels that are plain code holding no device state (the CPU's), which any
    /// instance of their backend runs.
    /// </summary>
    public static TKernel Kernel<TKernel>(string backend, ICompiledKernel kernel)
        where TKernel : class, ICompiledKernel =>
        kernel as TKernel ?? throw new ArgumentException($"{backend}: kernel {kernel.Spec.DisplayName} was not compiled by this {backend} backend", nameof(kernel));

    /// <summary>
    /// How many of the kernel's optional trailing buffers the launch leaves off (which entry point runs),
    /// or an <see cref="ArgumentException"/> when <paramref name="given"/> buffers fit none.
    /// </summary>
    public static int OmittedBuffers(string backend, KernelSpec kernel, int takes, int optionalTrailing, int given)
    {
        int omitted = takes - given;
        if (omitted < 0 || omitted > optionalTrailing)
            throw new ArgumentException($"{backend}: kernel {kernel.DisplayName} takes {takes} buffers, got {given}", "buffers");
        return omitted;
    }

    /// <summary>
    /// Buffer <paramref name="index"/> of a launch as the backend's own type: an <see cref="ArgumentException"/>
    /// when it belongs to another backend or holds fewer than <paramref name="needs"/> elements, an
    /// <see cref="ObjectDisposedException"/> when it was disposed.
    /// </summary>
    public static TBuffer Buffer<TBuffer>(string backend, IBackend owner, KernelSpec kernel, ReadOnlySpan<IDeviceBuffer> buffers, int index, long needs, Func<TBuffer, bool> isDisposed)
        where TBuffer : class, IDeviceBuffer
    {
        if (buffers[index] is not TBuffer own || !ReferenceEquals(own.Owner, owner))
            throw new ArgumentException($"{backend}: kernel {kernel.DisplayName}: buffer {index} does not belong to this {backend} backend", nameof(buffers));
        if (isDisposed(own)) throw new ObjectDisposedException(typeof(TBuffer).Name, $"{backend}: kernel {kernel.DisplayName}: buffer {index} was disposed");
        if (own.Elements < needs)
            throw new ArgumentException($"{backend}: kernel {kernel.DisplayName}: buffer {index} holds {own.Elements} elements, needs {needs}", nameof(buffers));
        return own;
    }
}
