namespace Dataflow.Engine.Backends;

/// <summary>
/// A copy kernel: moves one tensor's value from a buffer of one backend to a buffer of another,
/// where placement put its producer and its consumer on different backends. Buffers: the source,
/// then the destination. No backend compiles it; the engine runs it (<see cref="TransferKernel"/>).
/// </summary>
public sealed record TransferSpec(TensorDesc Tensor, string From, string To) : KernelSpec
{
    public override string DisplayName => $"copy {From}->{To}";

    public override string Key => $"{DisplayName}({Tensor})";
}

/// <summary>
/// Runs a <see cref="TransferSpec"/>: waits for both backends (the source's producer must have run,
/// and no queued launch may still read the destination's old contents), then downloads into a host
/// array kept for the next step and uploads it. Every element is 4 bytes and the copy moves bits, so
/// one float array serves every dtype.
/// </summary>
public sealed class TransferKernel(TransferSpec spec) : ICompiledKernel
{
    private readonly float[] _host = new float[checked((int)Math.Max(1, spec.Tensor.Elements))];

    public KernelSpec Spec => spec;

    /// <summary>Launches <paramref name="kernel"/>: a copy runs here, anything else is enqueued on <paramref name="backend"/>.</summary>
    public static void Launch(IBackend backend, ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch)
    {
        if (kernel is TransferKernel transfer) transfer.Run(buffers[0], buffers[1]);
        else backend.Enqueue(kernel, buffers, in launch);
    }

    private void Run(IDeviceBuffer source, IDeviceBuffer destination)
    {
        source.Owner.Wait();
        destination.Owner.Wait();
        var host = _host.AsSpan(0, (int)spec.Tensor.Elements);
        source.Owner.Download(source, host);
        destination.Owner.Upload(destination, host);
    }
}
