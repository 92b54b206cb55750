using Dataflow.Engine.Ecs;

namespace Dataflow.Generation.Frame;

/// <summary>
/// The generation frame's systems in one stage, with no order given: the schedule derives
/// Admit → Prefill → Decode → Sample → Stream → Tool → Retire from what each declares reading and
/// writing (see SequenceComponents for who hands what to whom). Prefill and Decode read the state
/// the previous frame's Decode, Stream and Tool left (<see cref="SystemAccess.ReadsPrevious"/>),
/// which is what puts them before those writers; every other edge puts a reader behind its writer.
/// </summary>
internal static class GenerationSchedule
{
    public const string Stage = "frame";

    /// <summary>A fresh schedule; the world needs the resources <see cref="AddResources"/> sets.</summary>
    public static Schedule Create(int slots, int cacheLength) => new Schedule("generation").AddStage(Stage)
        .Add(new AdmitSystem(), Stage)
        .Add(new PrefillSystem(), Stage)
        .Add(new DecodeSystem(slots, cacheLength), Stage)
        .Add(new SampleSystem(), Stage)
        .Add(new StreamSystem(), Stage)
        .Add(new ToolSystem(cacheLength), Stage)
        .Add(new RetireSystem(), Stage);

    /// <summary>Gives <paramref name="world"/> the decoder, the per-slot and per-sequence tables, the frame clock and the results.</summary>
    public static void AddResources(World world, BatchDecoder decoder, int vocab)
    {
        world.SetResource(decoder);
        world.SetResource(new SlotLogits(decoder.Slots, vocab));
        world.SetResource(new SlotPool(decoder.Slots));
        world.SetResource(new FrameClock());
        world.SetResource(new GenerationResults());
        world.SetResource(new TokenHistories());
        world.SetResource(new Samplers());
        world.SetResource(new TextOutputs());
        world.SetResource(new ToolCallers());
    }
}
