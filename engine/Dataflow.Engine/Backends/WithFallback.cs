namespace Dataflow.Engine.Backends;

/// <summary>
/// A backend paired with a second one that runs what the first cannot (ggml's scheduler, with the
/// CPU last): the compile's placement sends each kernel the first does not support to the second,
/// with copy kernels between them. Everything else (parameters, states, inputs, outputs, the
/// optimizer) lives on the first, which every call here forwards to.
/// </summary>
public sealed class WithFallback(IBackend primary, IBackend fallback) : ForwardingBackend(primary)
{
    public IBackend Primary => Inner;

    public IBackend Fallback { get; } = fallback;

    /// <summary>The backend that placement treats as chosen, and the fallback (null without one).</summary>
    public static (IBackend Primary, IBackend? Fallback) Split(IBackend backend) =>
        backend is WithFallback pair ? (pair.Primary, pair.Fallback) : (backend, null);

    public override void Dispose()
    {
        Inner.Dispose();
        Fallback.Dispose();
    }
}
