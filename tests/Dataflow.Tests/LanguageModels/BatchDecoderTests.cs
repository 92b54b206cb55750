using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;
using Dataflow.Generation;
using Dataflow.Graph.Dsl;
using Dataflow.Training;

namespace Dataflow.Tests.LanguageModels;

/// <summary>
/// The batched decoder against decoding alone and against recomputing without a cache: gpt.dfg
/// shrunk (vocabulary 11, context 32), random weights from the session's seed.
/// </summary>
public class BatchDecoderTests
{
    private const int Vocab = TinyGpt.Vocab, Context = 32;

    private static readonly Dictionary<string, string> Overrides = new(TinyGpt.Overrides) { ["ctx"] = $"{Context}" };

    private static LoadedModel Load(int? cacheLength, int? slots = null) =>
        ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, Overrides, Training: false, CacheLength: cacheLength, CacheSlots: slots));

    private static BatchDecoder NewDecoder(Session session, int slots, int chunk = 4) => new(session, (length, perRow) => Load(length, perRow), slots, Context, chunk);

    private static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double difference = 0, scale = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            difference = Math.Max(difference, Math.Abs(expected[i] - actual[i]));
            scale = Math.Max(scale, Math.Abs(expected[i]));
        }
        Assert.True(difference <= 1e-5 * Math.Max(1, scale), $"{what}: max difference {difference:E3} against max |logit| {scale:E3}");
    }

    /// <summary>Greedy decoding of each prompt: the logits of every step, prompts prefilled one by one, then decoded together.</summary>
    private static List<float[]>[] DecodeGreedy(BatchDecoder decoder, int[][] prompts, int steps, int firstSlot)
    {
        var logits = prompts.Select(_ => new List<float[]>()).ToArray();
        var tokens = new int[decoder.Slots];
        var positions = Enumerable.Repeat(Context, decoder.Slots).ToArray();
        for (int p = 0; p < prompts.Length; p++)
        {
            var last = decoder.Prefill(firstSlot + p, prompts[p]);
            logits[p].Add(last);
            tokens[firstSlot + p] = Sampler.ArgMax(last);
            positions[firstSlot + p] = prompts[p].Length;
        }
        for (int step = 0; step < steps; step++)
        {
            var all = decoder.Decode(tokens, positions);
            for (int p = 0; p < prompts.Length; p++)
            {
                int s = firstSlot + p;
                var row = all.AsSpan(s * Vocab, Vocab).ToArray();
                logits[p].Add(row);
                tokens[s] = Sampler.ArgMax(row);
                positions[s]++;
            }
        }
        return logits;
    }

    [Fact]
    public void Sixteen_prompts_decoded_together_match_each_decoded_alone()
    {
        var random = new Random(5);
        var prompts = Enumerable.Range(1, 16).Select(n => Enumerable.Range(0, n).Select(_ => random.Next(Vocab)).ToArray()).ToArray();
        const int steps = 12;

        List<float[]>[] together;
        using (var session = TinyGpt.NewSession())
            together = DecodeGreedy(NewDecoder(session, slots: 16), prompts, steps, firstSlot: 0);

        for (int p = 0; p < prompts.Length; p++)
        {
            using var session = TinyGpt.NewSession();
            var alone = DecodeGreedy(NewDecoder(session, slots: 1), [prompts[p]], steps, firstSlot: 0)[0];
            for (int step = 0; step <= steps; step++)
            {
                AssertClose(alone[step], together[p][step], $"prompt {p} step {step}");
                Assert.Equal(Sampler.ArgMax(alone[step]), Sampler.ArgMax(together[p][step]));
            }
        }
    }

    /// <summary>
    /// With decode copies (the weights column by column, f32 or bf16 words: what generation runs) a batch still
    /// gives each prompt the logits and greedy tokens it gets alone, and f32 copies give the logits of the
    /// weights as stored. d 64, so the layer projections (n ≥ 64) take the streaming paths at 16 rows too.
    /// </summary>
    [Theory]
    [InlineData(WeightStorage.F32)]
    [InlineData(WeightStorage.Bf16)]
    public void With_decode_copies_prompts_decoded_together_match_each_decoded_alone(WeightStorage storage)
    {
        var wide = new Dictionary<string, string>(Overrides) { ["d"] = "64" };
        BatchDecoder Decoder(Session session, int slots) => new(session, (length, perRow) =>
            ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, wide, Training: false, CacheLength: length, CacheSlots: perRow)), slots, Context, 4);
        Session NewSession(bool copies) => new(new CpuBackend(), 7, new CompileOptions { Weights = storage, DecodeCopies = copies });
        var random = new Random(6);
        var prompts = Enumerable.Range(1, 16).Select(n => Enumerable.Range(0, n % 7 + 1).Select(_ => random.Next(Vocab)).ToArray()).ToArray();
        const int steps = 6;

        List<float[]>[] together;
        using (var session = NewSession(copies: true))
        {
            together = DecodeGreedy(Decoder(session, slots: 16), prompts, steps, firstSlot: 0);
            Assert.All(session.Parameters.Slots.Where(p => p.Shape.Length == 2 && p.Shape[0] == 64 && p.Shape[1] >= 64),
                p => Assert.NotNull(((CpuBuffer)p.Value).Decode));
        }
        List<float[]>[]? stored = null;
        if (storage == WeightStorage.F32)
            using (var session = NewSession(copies: false))
                stored = DecodeGreedy(Decoder(session, slots: 16), prompts, steps, firstSlot: 0);
        for (int p = 0; p < prompts.Length; p += 5)
        {
            using var session = NewSession(copies: true);
            var alone = DecodeGreedy(Decoder(session, slots: 1), [prompts[p]], steps, firstSlot: 0)[0];
            for (int step = 0; step <= steps; step++)
            {
                AssertClose(alone[step], together[p][step], $"prompt {p} step {step}");
                Assert.Equal(Sampler.ArgMax(alone[step]), Sampler.ArgMax(together[p][step]));
                if (stored is not null) AssertClose(stored[p][step], together[p][step], $"prompt {p} step {step} against the weights as stored");
            }
        }
    }

    [Fact]
    public void Prefills_queued_together_match_each_prefilled_alone_and_decode_on_from_there()
    {
        var random = new Random(9);
        // Chunk 16, tail chunk 2: prompts of a padded tail, a tail, a padded full chunk, one chunk, two chunks (the second moved back).
        var prompts = new[] { 1, 2, 3, 5, 16, 20, 30 }.Select(n => Enumerable.Range(0, n).Select(_ => random.Next(Vocab)).ToArray()).ToArray();
        using var session = TinyGpt.NewSession();
        var decoder = NewDecoder(session, slots: 8, chunk: 16);
        var (done, last, calls) = (new int[prompts.Length], new float[prompts.Length][], 0);
        while (last.Any(l => l is null))
        {
            var tickets = new int?[prompts.Length];
            for (int p = 0; p < prompts.Length; p++)
                if (last[p] is null) tickets[p] = decoder.QueuePrefill(p + 1, prompts[p], ref done[p]);
            decoder.RunPrefills();
            calls++;
            for (int p = 0; p < prompts.Length; p++)
                if (tickets[p] is { } ticket && done[p] == prompts[p].Length) last[p] = decoder.PrefillLogits(ticket).ToArray();
        }
        Assert.Equal(2, calls);
        var tokens = new int[decoder.Slots];
        var positions = Enumerable.Repeat(Context, decoder.Slots).ToArray();
        for (int p = 0; p < prompts.Length; p++) (tokens[p + 1], positions[p + 1]) = (Sampler.ArgMax(last[p]), prompts[p].Length);
        var step = decoder.Decode(tokens, positions).ToArray();

        for (int p = 0; p < prompts.Length; p++)
        {
            using var alone = TinyGpt.NewSession();
            var solo = NewDecoder(alone, slots: 1, chunk: 16);
            AssertClose(solo.Prefill(0, prompts[p]), last[p], $"prompt {p} prefill");
            AssertClose(solo.Decode([tokens[p + 1]], [prompts[p].Length]), step.AsSpan((p + 1) * Vocab, Vocab), $"prompt {p} decode");
        }
    }

    [Fact]
    public void Slots_are_independent_a_prefill_into_one_leaves_the_others_unchanged()
    {
        using var session = TinyGpt.NewSession();
        var decoder = NewDecoder(session, slots: 3);
        int[] prompt = [1, 2, 3, 4, 5, 6];
        var first = decoder.Prefill(1, prompt);
        decoder.Prefill(0, [7, 7, 7, 7, 7, 7, 7, 7, 7]);
        decoder.Prefill(2, [9]);
        var tokens = new[] { 0, Sampler.ArgMax(first), 0 };
        var positions = new[] { Context, prompt.Length, Context };
        var step = decoder.Decode(tokens, positions).AsSpan(Vocab, Vocab).ToArray();

        using var alone = TinyGpt.NewSession();
        var solo = NewDecoder(alone, slots: 1);
        AssertClose(solo.Prefill(0, prompt), first, "prefill");
        AssertClose(solo.Decode([tokens[1]], [prompt.Length]), step, "decode");
    }

    [Theory]
    [InlineData(4)]
    [InlineData(32)]
    public void Cached_decoding_equals_recomputing_the_window_without_a_cache_over_128_tokens(int chunk)
    {
        var random = new Random(11);
        var tokens = Enumerable.Range(0, 128).Select(_ => random.Next(Vocab)).ToArray();
        using var session = TinyGpt.NewSession();
        var decoder = NewDecoder(session, slots: 2, chunk);
        var full = Load(cacheLength: null);
        var fullInputs = LanguageModelInputs.Of(full.Graph);
        var fullGraph = StepGraph.ForwardOnly(full.Graph, includeLoss: false);

        const int prompt = 5, slot = 1;
        int start = 0, slides = 0;
        var cached = decoder.Prefill(slot, tokens.AsSpan(0, prompt));
        for (int n = prompt; ; n++)
        {
            // The reference: the window's tokens through the ordinary graph, last row.
            var window = tokens[start..n];
            var compiled = session.Compile(fullGraph, fullInputs.Bindings(1, window.Length));
            var reference = session.Run(compiled, new Dictionary<string, Array> { [fullInputs.Tokens] = window }, [fullInputs.Logits]).Results[fullInputs.Logits];
            AssertClose(reference.AsSpan((window.Length - 1) * Vocab, Vocab), cached, $"{n} tokens, window from {start}");
            if (n == tokens.Length) break;

            int slid = SlidingWindow.Start(start, n + 1, Context);
            if (slid != start)
            {
                (start, slides) = (slid, slides + 1);
                cached = decoder.Prefill(slot, tokens.AsSpan(start, n + 1 - start));
            }
            else
            {
                var positions = new[] { Context, n - start };
                cached = decoder.Decode([0, tokens[n]], positions).AsSpan(slot * Vocab, Vocab).ToArray();
            }
        }
        Assert.True(slides >= 6, $"128 tokens through a context of {Context} slide {slides} times");
    }

    [Fact]
    public void Decode_steps_read_logits_into_one_array_and_agree_with_a_second_decoder()
    {
        using var session = TinyGpt.NewSession();
        var decoder = NewDecoder(session, slots: 1);
        using var freshSession = TinyGpt.NewSession();
        var fresh = NewDecoder(freshSession, slots: 1);
        var prompt = new[] { 3, 1, 4 };
        int token = Sampler.ArgMax(decoder.Prefill(0, prompt));
        Assert.Equal(token, Sampler.ArgMax(fresh.Prefill(0, prompt)));
        float[]? first = null;
        for (int step = 0; step < 5; step++)
        {
            var logits = decoder.Decode([token], [prompt.Length + step]);
            first ??= logits;
            Assert.Same(first, logits);    // no allocation per token
            AssertClose(fresh.Decode([token], [prompt.Length + step]).ToArray(), logits, $"step {step}");
            token = Sampler.ArgMax(logits);
        }
    }

    /// <summary>Three of eight slots running: the step runs the 4-row slotted graph over the same caches, and each sequence gets what it gets decoded alone.</summary>
    [Fact]
    public void A_step_with_few_sequences_runs_a_narrower_graph_and_matches_each_decoded_alone()
    {
        var random = new Random(9);
        int[] slots = [1, 4, 6];
        var prompts = slots.Select(s => Enumerable.Range(0, 3 + s).Select(_ => random.Next(Vocab)).ToArray()).ToArray();
        const int steps = 6;
        using var session = TinyGpt.NewSession();
        var decoder = NewDecoder(session, slots: 8);
        var tokens = new int[8];
        var positions = Enumerable.Repeat(Context, 8).ToArray();
        var together = prompts.Select(_ => new List<float[]>()).ToArray();
        for (int p = 0; p < prompts.Length; p++)
        {
            var last = decoder.Prefill(slots[p], prompts[p]);
            (tokens[slots[p]], positions[slots[p]]) = (Sampler.ArgMax(last), prompts[p].Length);
        }
        for (int step = 0; step < steps; step++)
        {
            var all = decoder.Decode(tokens, positions);
            Assert.Equal(4, decoder.LastWidth);
            for (int p = 0; p < prompts.Length; p++)
            {
                var row = all.AsSpan(slots[p] * Vocab, Vocab).ToArray();
                together[p].Add(row);
                (tokens[slots[p]], positions[slots[p]]) = (Sampler.ArgMax(row), positions[slots[p]] + 1);
            }
        }
        for (int p = 0; p < prompts.Length; p++)
        {
            using var alone = TinyGpt.NewSession();
            var solo = DecodeGreedy(NewDecoder(alone, slots: 1), [prompts[p]], steps, firstSlot: 0)[0];
            for (int step = 0; step < steps; step++)
            {
                AssertClose(solo[step + 1], together[p][step], $"slot {slots[p]} step {step}");
                Assert.Equal(Sampler.ArgMax(solo[step + 1]), Sampler.ArgMax(together[p][step]));
            }
        }
    }

    /// <summary>
    /// A warm decode step allocates almost nothing on the calling thread: no kernel names built per
    /// launch, no closures per parallel loop (measured ~2.3 KB a step, the engine's frame bookkeeping;
    /// it was ~27 KB). The bound leaves room for that, not for a per-kernel allocation creeping back.
    /// </summary>
    [Fact]
    public void A_warm_decode_step_allocates_under_8_kilobytes()
    {
        using var session = TinyGpt.NewSession();
        var decoder = NewDecoder(session, slots: 4);
        int[] tokens = [1, 2, 3, 4], positions = [0, 5, 9, Context];
        for (int step = 0; step < 20; step++) decoder.Decode(tokens, positions);
        const int Steps = 200;
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int step = 0; step < Steps; step++) decoder.Decode(tokens, positions);
        long perStep = (GC.GetAllocatedBytesForCurrentThread() - before) / Steps;
        Assert.True(perStep < 8 * 1024, $"a decode step allocated {perStep} bytes");
    }
}
