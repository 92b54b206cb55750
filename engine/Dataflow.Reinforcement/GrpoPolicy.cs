using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Reinforcement;

/// <summary>
/// What a GRPO run builds on the trainer's session once it exists: the rollout generator, the
/// scorer of old log-probabilities and, under a KL penalty, the frozen reference. Shared by the batch
/// source and the evaluator, so both sample with one generator.
/// </summary>
internal sealed class GrpoPolicy(PolicyModel model, ITokenizer tokenizer, int slots, int prefillChunk, Func<IBackend>? referenceBackend) : IDisposable
{
    private PolicyRollouts? _rollouts;
    private PolicyScorer? _scorer;

    public PolicyModel Model { get; } = model;
    public PolicyRollouts Rollouts => _rollouts ?? throw NotAttached();
    public PolicyScorer Scorer => _scorer ?? throw NotAttached();
    public FrozenReference? Reference { get; private set; }

    /// <summary>Called with the trainer's session after the starting weights are in it (so the reference copies those).</summary>
    public void Attach(Session session)
    {
        _rollouts = new PolicyRollouts(session, Model, tokenizer, slots, prefillChunk);
        _scorer = new PolicyScorer(session, Model);
        if (referenceBackend is not null) Reference = new FrozenReference(referenceBackend(), session, Model);
    }

    private static InvalidOperationException NotAttached() => new("the GRPO policy is used before the trainer's session exists");

    public void Dispose()
    {
        _rollouts?.Dispose();
        Reference?.Dispose();
    }
}
