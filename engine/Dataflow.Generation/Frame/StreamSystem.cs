using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>Turns each new token into text, hands it to the sequence's sink, and ends a sequence whose text completes a stop string.</summary>
internal sealed class StreamSystem : ISystem
{
    public string Name => nameof(StreamSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(SequenceSampling)], writes: [typeof(SequenceState), typeof(SequenceOutput)]);

    public void Run(World world) => world.ForEach(in Sequences.All, (ref SequenceState s, ref SequenceSampling sampling, ref SequenceOutput o) =>
    {
        if (s.NewToken < 0) return;
        string piece = o.Stream.Push(s.NewToken);
        s.NewToken = -1;
        if (o.FirstTokenTicks == 0) o.FirstTokenTicks = GenerationFrame.Now;
        if (piece.Length > 0)
        {
            o.Text.Append(piece);
            o.Sink?.OnText(s.Request, piece);
        }
        if (s.Phase != SequencePhase.Decoding) return;
        if (piece.Length > 0 && CompletesStop(o.Text, piece.Length, sampling.StopStrings))
            (s.Phase, s.Reason) = (SequencePhase.Finished, FinishReason.StopString);
        else s.Pending = true;
    });

    /// <summary>Whether a stop string ends within the last <paramref name="added"/> characters of <paramref name="text"/>.</summary>
    private static bool CompletesStop(System.Text.StringBuilder text, int added, IReadOnlyList<string> stops)
    {
        foreach (var stop in stops)
        {
            if (stop.Length == 0) continue;
            int from = Math.Max(0, text.Length - added - stop.Length + 1);
            if (text.ToString(from, text.Length - from).Contains(stop, StringComparison.Ordinal)) return true;
        }
        return false;
    }
}
