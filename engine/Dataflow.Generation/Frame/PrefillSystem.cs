using System.Runtime.InteropServices;
using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>
/// One prefill chunk per prefilling sequence per frame (a long prompt does not stall the batch), all of
/// a frame's chunks in one graph call per chunk size (<see cref="BatchDecoder.QueuePrefill"/>: sixteen
/// admitted prompts are one tall product, not sixteen calls); a sequence whose window is all in its cache
/// slot has the logits of its next token and starts decoding. It continues the prefills that Decode (a
/// slide) and Tool (an answer) queued in earlier frames, so it reads their components as the previous
/// frame left them and runs before them.
/// </summary>
internal sealed class PrefillSystem : ISystem
{
    private readonly ForEachWithEntityRef<CacheSlot, PrefillProgress, CacheWindow, FreshLogits> _queue;
    /// <summary>This frame's queued chunks that finish a prefill: the sequence and its chunk's ticket.</summary>
    private readonly List<(Entity Entity, int Ticket)> _finishing = [];
    private BatchDecoder _decoder = null!;
    private TokenHistories _histories = null!;

    public PrefillSystem() => _queue = Queue;

    public string Name => nameof(PrefillSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CacheSlot)],
        readsPrevious: [typeof(PrefillProgress), typeof(CacheWindow), typeof(TokenHistories)],
        writes: [typeof(PrefillProgress), typeof(FreshLogits), typeof(SlotLogits), typeof(BatchDecoder)]);

    public void Run(World world)
    {
        (_decoder, _histories) = (world.Resource<BatchDecoder>(), world.Resource<TokenHistories>());
        _finishing.Clear();
        world.ForEachWithEntity(in Sequences.All, _queue);
        _decoder.RunPrefills();
        var logits = world.Resource<SlotLogits>();
        foreach (var (entity, ticket) in _finishing)
        {
            var next = logits[world.Get<CacheSlot>(entity).Slot];
            _decoder.PrefillLogits(ticket)[..next.Length].CopyTo(next);
            world.Get<FreshLogits>(entity).Fresh = true;
            world.Get<PrefillProgress>(entity).Active = false;
        }
    }

    private void Queue(Entity entity, ref CacheSlot slot, ref PrefillProgress prefill, ref CacheWindow window, ref FreshLogits fresh)
    {
        if (!prefill.Active || slot.Slot < 0) return;
        var tokens = CollectionsMarshal.AsSpan(_histories[entity])[window.Start..];
        int ticket = _decoder.QueuePrefill(slot.Slot, tokens, ref prefill.Done);
        if (prefill.Done == tokens.Length) _finishing.Add((entity, ticket));
    }
}
