using System.Diagnostics;
using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>Finishes retired sequences: flushes their text, records the result, frees the slot and the payload rows, and destroys the entity (after the query).</summary>
internal sealed class RetireSystem : ISystem
{
    private readonly List<Entity> _retired = [];
    private readonly ForEachWithEntityRef<SequenceSpec, CacheSlot, SequenceEnd, StreamClock> _retire;
    private TokenHistories _histories = null!;
    private TextOutputs _outputs = null!;
    private SlotPool _pool = null!;
    private GenerationResults _results = null!;
    private long _frame;

    public RetireSystem() => _retire = Retire;

    public string Name => nameof(RetireSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(SequenceSpec), typeof(CacheSlot), typeof(SequenceEnd), typeof(StreamClock), typeof(FrameClock), typeof(TokenHistories), typeof(TextOutputs)],
        writes: [typeof(TokenHistories), typeof(TextOutputs), typeof(Samplers), typeof(ToolCallers), typeof(SlotPool), typeof(GenerationResults)]);

    public void Run(World world)
    {
        (_histories, _outputs, _pool, _results) = (world.Resource<TokenHistories>(), world.Resource<TextOutputs>(), world.Resource<SlotPool>(), world.Resource<GenerationResults>());
        _frame = world.Resource<FrameClock>().Number;
        _retired.Clear();
        world.ForEachWithEntity(in Sequences.All, _retire);
        if (_retired.Count == 0) return;
        var (samplers, tools) = (world.Resource<Samplers>(), world.Resource<ToolCallers>());
        foreach (var entity in _retired)
        {
            _histories.Release(entity);
            _outputs.Release(entity);
            samplers.Release(entity);
            tools.Release(entity);
            world.Destroy(entity);
        }
    }

    private void Retire(Entity entity, ref SequenceSpec spec, ref CacheSlot slot, ref SequenceEnd end, ref StreamClock clock)
    {
        if (end.Reason == FinishReason.None) return;
        var output = _outputs[entity];
        string rest = output.Stream.Flush();
        if (rest.Length > 0) { output.Text.Append(rest); output.Sink?.OnText(spec.Request, rest); }
        long now = FrameClock.Now;
        var result = new GenerationResult(
            spec.Request, output.Text.ToString(), [.. _histories[entity].Skip(spec.PromptLength)], spec.PromptLength, end.Reason, slot.Slot,
            slot.AdmittedFrame, _frame,
            clock.FirstTokenTicks == 0 ? TimeSpan.Zero : Stopwatch.GetElapsedTime(clock.SubmittedTicks, clock.FirstTokenTicks),
            Stopwatch.GetElapsedTime(clock.SubmittedTicks, now));
        _results.ById[spec.Request] = result;
        if (slot.Slot >= 0) _pool.Free(slot.Slot);
        output.Sink?.OnFinished(result);
        _retired.Add(entity);
    }
}
