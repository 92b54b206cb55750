using Dataflow.Engine.Data;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Generation.Frame;

/// <summary>Makes a submitted request a sequence entity: its components, and its rows in the payload tables.</summary>
internal static class SequenceEntity
{
    /// <summary>Creates request <paramref name="id"/> in <paramref name="world"/> (which has the resources of <see cref="GenerationSchedule.AddResources"/>), waiting for a slot.</summary>
    public static Entity Create(World world, int id, GenerationRequest request, ITokenizer tokenizer)
    {
        var entity = world.Create(
            new SequenceSpec { Request = id, PromptLength = request.Prompt.Length, MaxTokens = request.MaxTokens },
            new CacheSlot { Slot = -1 },
            new PrefillProgress { Active = true },
            new CacheWindow());
        world.Add(entity, new DecodeInput());
        world.Add(entity, new FreshLogits());
        world.Add(entity, new SampledToken { Token = -1 });
        world.Add(entity, new SequenceEnd());
        world.Add(entity, new StreamClock { SubmittedTicks = FrameClock.Now });
        world.Resource<TokenHistories>().Set(entity, [.. request.Prompt]);
        world.Resource<Samplers>().Set(entity, new SamplerRow(new Sampler(request.Sampling, new SeededRandom(request.Seed)), request.StopTokens));
        world.Resource<TextOutputs>().Set(entity, new TextOutput(request.Sink, new StreamingDecoder(tokenizer), request.StopStrings));
        world.Resource<ToolCallers>().Set(entity, request.Tools);
        return entity;
    }
}
