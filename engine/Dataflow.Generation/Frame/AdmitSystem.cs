using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>Gives waiting sequences free cache slots, in the order they were submitted; they start prefilling.</summary>
internal sealed class AdmitSystem(GenerationFrame frame) : ISystem
{
    private readonly List<(int Request, Entity Entity)> _waiting = [];

    public string Name => nameof(AdmitSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(SequenceSampling)], writes: [typeof(SequenceState)]);

    public void Run(World world)
    {
        _waiting.Clear();
        world.ForEachWithEntity(in Sequences.All, (Entity e, ref SequenceState s) =>
        {
            if (s.Phase == SequencePhase.Waiting) _waiting.Add((s.Request, e));
        });
        foreach (var (_, entity) in _waiting.OrderBy(w => w.Request))
        {
            ref var state = ref world.Get<SequenceState>(entity);
            state.AdmittedFrame = frame.Number;
            if (world.Get<SequenceSampling>(entity).MaxTokens == 0)
            {
                (state.Phase, state.Reason, state.Slot) = (SequencePhase.Finished, FinishReason.Length, -1);
                continue;
            }
            if (frame.FreeSlots.Count == 0) break;
            state.Slot = frame.FreeSlots.Min;
            frame.FreeSlots.Remove(state.Slot);
            (state.Phase, state.PrefillDone, state.WindowStart) = (SequencePhase.Prefilling, 0, 0);
        }
    }
}
