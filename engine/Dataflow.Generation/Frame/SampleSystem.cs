using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>Draws each sequence's next token from its fresh logits with its own sampler; a stop token or the token budget finishes it.</summary>
internal sealed class SampleSystem : ISystem
{
    public string Name => nameof(SampleSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(SequenceSampling)], writes: [typeof(SequenceState), typeof(SequenceTokens)]);

    public void Run(World world) => world.ForEach(in Sequences.All, (ref SequenceState s, ref SequenceTokens t, ref SequenceSampling sampling) =>
    {
        if (!t.Fresh) return;
        t.Fresh = false;
        int token = sampling.Sampler.Next(t.Logits);
        if (sampling.StopTokens.Contains(token))
        {
            (s.Phase, s.Reason) = (SequencePhase.Finished, FinishReason.StopToken);
            return;
        }
        t.History.Add(token);
        s.NewToken = token;
        if (++s.Generated >= sampling.MaxTokens) (s.Phase, s.Reason) = (SequencePhase.Finished, FinishReason.Length);
    });
}
