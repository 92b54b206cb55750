using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;

namespace Dataflow.Reinforcement;

/// <summary>
/// The frozen reference policy of a KL penalty (or DPO): a second session holding a copy of the
/// policy's parameters as they were when it was made, which no optimizer step touches.
/// </summary>
public sealed class FrozenReference : IDisposable
{
    private readonly Session _session;

    /// <summary>Copies every parameter of <paramref name="policySession"/> onto <paramref name="backend"/> (which the reference disposes).</summary>
    public FrozenReference(IBackend backend, Session policySession, PolicyModel policy)
    {
        _session = new Session(backend, policySession.Seed, policySession.Options);
        try
        {
            Scorer = new PolicyScorer(_session, policy);
            _session.DeclareParameters(Scorer.Graph);
            foreach (var slot in _session.Parameters.Slots)
            {
                var source = policySession.Parameters.Get(slot.Name);
                _session.Parameters.Write(slot.Value, policySession.Parameters.Read(source.Value, source.Elements));
            }
        }
        catch
        {
            _session.Dispose();
            throw;
        }
    }

    public PolicyScorer Scorer { get; }

    public void Dispose() => _session.Dispose();
}
