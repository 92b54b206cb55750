using Dataflow.Engine.Ecs;
using Dataflow.Generation;
using Dataflow.Graph.Dsl;

namespace Dataflow.Tests.LanguageModels;

/// <summary>Turns the ECS checks off while it measures, so it runs alone.</summary>
[CollectionDefinition(nameof(FrameAllocationTests), DisableParallelization = true)]
public sealed class FrameAllocationCollection;

/// <summary>
/// What a steady decoding frame allocates on the generator's thread beside the decoder's own step.
/// Measured when the decoder's step still allocated its frame: 2016 bytes a frame, of which that step was 1024
/// (it now refills one and allocates nothing: the second test); before the frame systems
/// kept their callbacks and payload tables (closures per ForEach, a LINQ sort, a copied-out stop
/// check) it was 2544. What remains is the schedule's per-run timing list and the streamed text pieces.
/// </summary>
[Collection(nameof(FrameAllocationTests))]
public class FrameAllocationTests
{
    [Fact]
    public void A_steady_decoding_frame_allocates_little_beside_the_decoder()
    {
        using var session = TinyGpt.NewSession();
        var overrides = new Dictionary<string, string>(TinyGpt.Overrides) { ["ctx"] = $"{GeneratorTests.Context}" };
        var decoder = new BatchDecoder(session, (length, perRow) =>
            ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, overrides, Training: false, CacheLength: length, CacheSlots: perRow)), 2, GeneratorTests.Context, 4);
        using var generator = new Generator(decoder, GeneratorTests.Tokenizer);
        var greedy = new SamplingOptions(Temperature: 0);
        generator.Submit(new GenerationRequest([1]) { MaxTokens = 200, Sampling = greedy });
        generator.Submit(new GenerationRequest([2]) { MaxTokens = 200, Sampling = greedy });
        for (int i = 0; i < 4; i++) generator.Step();    // admitted, prefilled: both decode from here (the window slides after 31 tokens)
        EcsChecks.Enabled = false;                          // the access check records every run, which allocates
        try
        {
            var frames = new long[8];
            for (int i = 0; i < frames.Length; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                generator.Step();
                frames[i] = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            long decode = long.MaxValue;
            for (int i = 0; i < 4; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                decoder.Decode([1, 2], [20, 20]);
                decode = Math.Min(decode, GC.GetAllocatedBytesForCurrentThread() - before);
            }
            long steady = frames.Min();
            Assert.True(steady - decode <= 1024, $"a steady frame allocates {steady} bytes (frames: {string.Join(" ", frames)}), the decoder's step {decode}");
        }
        finally
        {
            EcsChecks.Enabled = true;
        }
    }
    [Fact]
    public void A_steady_decode_step_refills_its_frame_and_allocates_nothing()
    {
        using var session = TinyGpt.NewSession();
        var overrides = new Dictionary<string, string>(TinyGpt.Overrides) { ["ctx"] = $"{GeneratorTests.Context}" };
        var decoder = new BatchDecoder(session, (length, perRow) =>
            ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, overrides, Training: false, CacheLength: length, CacheSlots: perRow)), 2, GeneratorTests.Context, 4);
        for (int i = 0; i < 3; i++) decoder.Decode([1, 2], [i, i]);   // compiled, warm
        EcsChecks.Enabled = false;                                      // the access check records every run, which allocates
        try
        {
            var steps = new long[6];
            for (int i = 0; i < steps.Length; i++)
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                decoder.Decode([1, 2], [3 + i, 3 + i]);
                steps[i] = GC.GetAllocatedBytesForCurrentThread() - before;
            }
            Assert.True(steps.Min() == 0, $"a steady decode step allocates (bytes per step: {string.Join(" ", steps)})");
        }
        finally
        {
            EcsChecks.Enabled = true;
        }
    }
}
