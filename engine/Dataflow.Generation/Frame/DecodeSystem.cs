using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>
/// One batched decode step for every sequence with a token to feed, each in its own slot at its own
/// position (the other slots idle). A sequence whose window is full slides (<see cref="SlidingWindow"/>)
/// and goes back to prefilling instead. The tokens it feeds were sampled and streamed in earlier
/// frames, so it reads them as the previous frame left them and runs before Sample, Stream and Tool.
/// </summary>
internal sealed class DecodeSystem : ISystem
{
    private readonly int[] _tokens;
    private readonly int[] _positions;
    private readonly int _length;
    private readonly ForEachWithEntityRef<CacheSlot, DecodeInput, CacheWindow, PrefillProgress> _gather;
    private readonly ForEachRef<CacheSlot, DecodeInput, FreshLogits> _scatter;
    private TokenHistories _histories = null!;
    private SlotLogits _logits = null!;
    private float[] _decoded = [];
    private int _width;
    private bool _any;

    public DecodeSystem(int slots, int cacheLength)
    {
        (_tokens, _positions, _length) = (new int[slots], new int[slots], cacheLength);
        (_gather, _scatter) = (Gather, Scatter);
    }

    public string Name => nameof(DecodeSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CacheSlot)],
        readsPrevious: [typeof(DecodeInput), typeof(CacheWindow), typeof(TokenHistories)],
        writes: [typeof(DecodeInput), typeof(CacheWindow), typeof(PrefillProgress), typeof(FreshLogits), typeof(SlotLogits), typeof(BatchDecoder)]);

    public void Run(World world)
    {
        var decoder = world.Resource<BatchDecoder>();
        (_histories, _logits) = (world.Resource<TokenHistories>(), world.Resource<SlotLogits>());
        Array.Fill(_positions, _length);
        _any = false;
        world.ForEachWithEntity(in Sequences.All, _gather);
        if (!_any) return;

        _decoded = decoder.Decode(_tokens, _positions);
        _width = _decoded.Length / decoder.Slots;
        world.ForEach(in Sequences.All, _scatter);
        _decoded = [];
    }

    private void Gather(Entity entity, ref CacheSlot slot, ref DecodeInput input, ref CacheWindow window, ref PrefillProgress prefill)
    {
        if (!input.Pending) return;
        var history = _histories[entity];
        int position = history.Count - 1 - window.Start;
        if (position >= _length)
        {
            window.Start = SlidingWindow.Start(window.Start, history.Count, _length);
            (prefill.Active, prefill.Done, input.Pending) = (true, 0, false);
            return;
        }
        _tokens[slot.Slot] = history[^1];
        _positions[slot.Slot] = position;
        _any = true;
    }

    private void Scatter(ref CacheSlot slot, ref DecodeInput input, ref FreshLogits fresh)
    {
        if (!input.Pending) return;
        var next = _logits[slot.Slot];
        _decoded.AsSpan(slot.Slot * _width, next.Length).CopyTo(next);
        (fresh.Fresh, input.Pending) = (true, false);
    }
}
