using Dataflow.Engine.Backends;

namespace Dataflow.Conformance.Harness;

/// <summary>
/// Lends a backend to a <see cref="Engine.Sessions.Session"/> without giving it away: a session
/// disposes its backend, but the suite runs many cases on one backend instance (a GPU context and
/// its kernel cache are too costly to rebuild per case). It also remembers the last kernel the
/// backend refused, so a compile that fails on an unsupported op becomes a SKIP with the reason.
/// </summary>
internal sealed class BorrowedBackend(IBackend inner) : ForwardingBackend(inner)
{
    public (string Kernel, string Reason)? Refusal { get; private set; }

    public override Support SupportsOp(KernelSpec spec)
    {
        var support = Inner.SupportsOp(spec);
        if (!support.IsSupported) Refusal = (spec.DisplayName, support.Reason ?? "no reason given");
        return support;
    }

    /// <summary>The lender keeps the backend; nothing to release here.</summary>
    public override void Dispose()
    {
    }
}
