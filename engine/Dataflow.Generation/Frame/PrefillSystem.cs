using System.Runtime.InteropServices;
using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>
/// One prefill chunk per prefilling sequence per frame (a long prompt does not stall the batch); a
/// sequence whose window is all in its cache slot has the logits of its next token and starts decoding.
/// It continues the prefills that Decode (a slide) and Tool (an answer) queued in earlier frames, so
/// it reads their components as the previous frame left them and runs before them.
/// </summary>
internal sealed class PrefillSystem : ISystem
{
    private readonly ForEachWithEntityRef<CacheSlot, PrefillProgress, CacheWindow, FreshLogits> _step;
    private BatchDecoder _decoder = null!;
    private TokenHistories _histories = null!;
    private SlotLogits _logits = null!;

    public PrefillSystem() => _step = Step;

    public string Name => nameof(PrefillSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CacheSlot)],
        readsPrevious: [typeof(PrefillProgress), typeof(CacheWindow), typeof(TokenHistories)],
        writes: [typeof(PrefillProgress), typeof(FreshLogits), typeof(SlotLogits), typeof(BatchDecoder)]);

    public void Run(World world)
    {
        (_decoder, _histories, _logits) = (world.Resource<BatchDecoder>(), world.Resource<TokenHistories>(), world.Resource<SlotLogits>());
        world.ForEachWithEntity(in Sequences.All, _step);
    }

    private void Step(Entity entity, ref CacheSlot slot, ref PrefillProgress prefill, ref CacheWindow window, ref FreshLogits fresh)
    {
        if (!prefill.Active || slot.Slot < 0) return;
        var tokens = CollectionsMarshal.AsSpan(_histories[entity])[window.Start..];
        var logits = _decoder.PrefillChunk(slot.Slot, tokens, ref prefill.Done);
        if (prefill.Done < tokens.Length) return;
        var next = _logits[slot.Slot];
        logits.AsSpan(0, next.Length).CopyTo(next);
        (fresh.Fresh, prefill.Active) = (true, false);
    }
}
