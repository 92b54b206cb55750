using System.Text;
using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>Turns each new token into text, hands it to the sequence's sink, and ends a sequence whose text completes a stop string.</summary>
internal sealed class StreamSystem : ISystem
{
    private readonly ForEachWithEntityRef<SampledToken, SequenceEnd, StreamClock, DecodeInput> _stream;
    private World _world = null!;
    private TextOutputs _outputs = null!;

    public StreamSystem() => _stream = Stream;

    public string Name => nameof(StreamSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(SampledToken), typeof(SequenceEnd), typeof(SequenceSpec)],
        writes: [typeof(SequenceEnd), typeof(StreamClock), typeof(DecodeInput), typeof(TextOutputs)]);

    public void Run(World world)
    {
        (_world, _outputs) = (world, world.Resource<TextOutputs>());
        world.ForEachWithEntity(in Sequences.All, _stream);
    }

    private void Stream(Entity entity, ref SampledToken sampled, ref SequenceEnd end, ref StreamClock clock, ref DecodeInput input)
    {
        if (sampled.Token < 0) return;
        var output = _outputs[entity];
        string piece = output.Stream.Push(sampled.Token);
        if (clock.FirstTokenTicks == 0) clock.FirstTokenTicks = FrameClock.Now;
        if (piece.Length > 0)
        {
            output.Text.Append(piece);
            output.Sink?.OnText(_world.Get<SequenceSpec>(entity).Request, piece);
        }
        if (end.Reason != FinishReason.None) return;
        if (piece.Length > 0 && CompletesStop(output.Text, piece.Length, output.StopStrings)) end.Reason = FinishReason.StopString;
        else input.Pending = true;
    }

    /// <summary>Whether a stop string ends within the last <paramref name="added"/> characters of <paramref name="text"/>.</summary>
    private static bool CompletesStop(StringBuilder text, int added, IReadOnlyList<string> stops)
    {
        for (int s = 0; s < stops.Count; s++)
        {
            string stop = stops[s];
            if (stop.Length == 0) continue;
            // A match must end in the added characters: it starts at or after 'from' (compared in place, not copied out).
            int from = Math.Max(0, text.Length - added - stop.Length + 1);
            for (int start = from; start + stop.Length <= text.Length; start++)
                if (MatchesAt(text, start, stop)) return true;
        }
        return false;
    }

    private static bool MatchesAt(StringBuilder text, int start, string stop)
    {
        for (int i = 0; i < stop.Length; i++)
            if (text[start + i] != stop[i]) return false;
        return true;
    }
}
