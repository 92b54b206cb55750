using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>
/// Feeds a tool's answer into each sequence whose new token completed a call (<see cref="IToolCalls"/>):
/// the answer's tokens join the history and the stream, and the sequence prefills them from where its
/// cache ends (sliding its window when they would not fit) before it samples again.
/// </summary>
internal sealed class ToolSystem(GenerationFrame frame) : ISystem
{
    public string Name => nameof(ToolSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(SequenceSampling)], writes: [typeof(SequenceState), typeof(SequenceTokens), typeof(SequenceOutput)]);

    public void Run(World world) => world.ForEach(in Sequences.All, (ref SequenceState s, ref SequenceTokens t, ref SequenceSampling sampling, ref SequenceOutput o) =>
    {
        if (sampling.Tools is null || s.Phase != SequencePhase.Decoding || !s.Pending) return;
        if (sampling.Tools.Respond(t.History, t.PromptLength) is not { Length: > 0 } answer) return;
        int cached = t.History.Count - 1 - s.WindowStart;    // all but the sampled token, which was never fed
        t.History.AddRange(answer);
        foreach (int token in answer)
        {
            string piece = o.Stream.Push(token);
            if (piece.Length == 0) continue;
            o.Text.Append(piece);
            o.Sink?.OnText(s.Request, piece);
        }
        int start = SlidingWindow.Start(s.WindowStart, t.History.Count, frame.Decoder.CacheLength);
        (s.PrefillDone, s.WindowStart) = (start == s.WindowStart ? cached : 0, start);
        (s.Phase, s.Pending) = (SequencePhase.Prefilling, false);
    });
}
