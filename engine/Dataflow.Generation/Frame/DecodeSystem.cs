using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>
/// One batched decode step for every sequence with a token to feed, each in its own slot at its own
/// position (the other slots idle). A sequence whose window is full slides (<see cref="SlidingWindow"/>)
/// and goes back to prefilling instead.
/// </summary>
internal sealed class DecodeSystem(GenerationFrame frame) : ISystem
{
    private readonly int[] _tokens = new int[frame.Decoder.Slots];
    private readonly int[] _positions = new int[frame.Decoder.Slots];

    public string Name => nameof(DecodeSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(writes: [typeof(SequenceState), typeof(SequenceTokens)]);

    public void Run(World world)
    {
        int length = frame.Decoder.CacheLength;
        Array.Fill(_positions, length);
        bool any = false;
        world.ForEach(in Sequences.All, (ref SequenceState s, ref SequenceTokens t) =>
        {
            if (s.Phase != SequencePhase.Decoding || !s.Pending) return;
            int position = t.History.Count - 1 - s.WindowStart;
            if (position >= length)
            {
                s.WindowStart = SlidingWindow.Start(s.WindowStart, t.History.Count, length);
                (s.Phase, s.PrefillDone, s.Pending) = (SequencePhase.Prefilling, 0, false);
                return;
            }
            _tokens[s.Slot] = t.History[^1];
            _positions[s.Slot] = position;
            any = true;
        });
        if (!any) return;

        var logits = frame.Decoder.Decode(_tokens, _positions);
        int width = logits.Length / frame.Decoder.Slots;
        world.ForEach(in Sequences.All, (ref SequenceState s, ref SequenceTokens t) =>
        {
            if (s.Phase != SequencePhase.Decoding || !s.Pending) return;
            logits.AsSpan(s.Slot * width, t.Logits.Length).CopyTo(t.Logits);
            (t.Fresh, s.Pending) = (true, false);
        });
    }
}
