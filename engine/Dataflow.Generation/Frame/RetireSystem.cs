using System.Diagnostics;
using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>Finishes retired sequences: flushes their text, records the result, frees the slot, and destroys the entity (after the query).</summary>
internal sealed class RetireSystem(GenerationFrame frame) : ISystem
{
    private readonly List<Entity> _retired = [];

    public string Name => nameof(RetireSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(writes: [typeof(SequenceState), typeof(SequenceTokens), typeof(SequenceOutput)]);

    public void Run(World world)
    {
        _retired.Clear();
        world.ForEachWithEntity(in Sequences.All, (Entity e, ref SequenceState s, ref SequenceTokens t, ref SequenceOutput o) =>
        {
            if (s.Phase != SequencePhase.Finished) return;
            string rest = o.Stream.Flush();
            if (rest.Length > 0) { o.Text.Append(rest); o.Sink?.OnText(s.Request, rest); }
            long now = GenerationFrame.Now;
            var result = new GenerationResult(
                s.Request, o.Text.ToString(), [.. t.History.Skip(t.PromptLength)], t.PromptLength, s.Reason, s.Slot,
                s.AdmittedFrame, frame.Number,
                o.FirstTokenTicks == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(o.SubmittedTicks, o.FirstTokenTicks),
                Stopwatch.GetElapsedTime(o.SubmittedTicks, now));
            frame.Results[s.Request] = result;
            if (s.Slot >= 0) frame.FreeSlots.Add(s.Slot);
            o.Sink?.OnFinished(result);
            _retired.Add(e);
        });
        foreach (var entity in _retired) world.Destroy(entity);
    }
}
