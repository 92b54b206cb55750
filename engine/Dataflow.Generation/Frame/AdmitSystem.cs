using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>Gives waiting sequences free cache slots, in the order they were submitted; they start prefilling.</summary>
internal sealed class AdmitSystem : ISystem
{
    private static readonly Comparison<(int Request, Entity Entity)> ByRequest = (a, b) => a.Request.CompareTo(b.Request);
    private readonly List<(int Request, Entity Entity)> _waiting = [];
    private readonly ForEachWithEntityRef<SequenceSpec, CacheSlot, SequenceEnd> _collect;

    public AdmitSystem() => _collect = Collect;

    public string Name => nameof(AdmitSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(SequenceSpec), typeof(FrameClock)],
        writes: [typeof(CacheSlot), typeof(SequenceEnd), typeof(SlotPool)]);

    public void Run(World world)
    {
        _waiting.Clear();
        world.ForEachWithEntity(in Sequences.All, _collect);
        _waiting.Sort(ByRequest);
        long frame = world.Resource<FrameClock>().Number;
        var pool = world.Resource<SlotPool>();
        foreach (var (_, entity) in _waiting)
        {
            ref var slot = ref world.Get<CacheSlot>(entity);
            slot.AdmittedFrame = frame;
            if (world.Get<SequenceSpec>(entity).MaxTokens == 0)
            {
                world.Get<SequenceEnd>(entity).Reason = FinishReason.Length;
                continue;
            }
            if ((slot.Slot = pool.Take()) < 0) break;
        }
    }

    private void Collect(Entity entity, ref SequenceSpec spec, ref CacheSlot slot, ref SequenceEnd end)
    {
        if (slot.Slot < 0 && end.Reason == FinishReason.None) _waiting.Add((spec.Request, entity));
    }
}
