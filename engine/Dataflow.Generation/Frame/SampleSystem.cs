using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>Draws each sequence's next token from its fresh logits with its own sampler; a stop token or the token budget finishes it.</summary>
internal sealed class SampleSystem : ISystem
{
    private readonly ForEachWithEntityRef<CacheSlot, FreshLogits, SampledToken, SequenceEnd> _sample;
    private World _world = null!;
    private SlotLogits _logits = null!;
    private Samplers _samplers = null!;
    private TokenHistories _histories = null!;

    public SampleSystem() => _sample = Sample;

    public string Name => nameof(SampleSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(FreshLogits), typeof(SlotLogits), typeof(CacheSlot), typeof(SequenceSpec)],
        writes: [typeof(FreshLogits), typeof(SampledToken), typeof(SequenceEnd), typeof(TokenHistories), typeof(Samplers)]);

    public void Run(World world)
    {
        (_world, _logits, _samplers, _histories) = (world, world.Resource<SlotLogits>(), world.Resource<Samplers>(), world.Resource<TokenHistories>());
        world.ForEachWithEntity(in Sequences.All, _sample);
    }

    private void Sample(Entity entity, ref CacheSlot slot, ref FreshLogits fresh, ref SampledToken sampled, ref SequenceEnd end)
    {
        sampled.Token = -1;
        if (!fresh.Fresh) return;
        fresh.Fresh = false;
        var row = _samplers[entity];
        int token = row.Sampler.Next(_logits[slot.Slot]);
        if (row.StopTokens.Contains(token))
        {
            end.Reason = FinishReason.StopToken;
            return;
        }
        _histories[entity].Add(token);
        sampled.Token = token;
        if (++sampled.Generated >= _world.Get<SequenceSpec>(entity).MaxTokens) end.Reason = FinishReason.Length;
    }
}
