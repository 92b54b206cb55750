using Dataflow.Engine;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Generation;
using Dataflow.Graph.Dsl;

namespace Dataflow.Tests.LanguageModels;

/// <summary>Continuous batching over the tiny GPT (vocabulary 11, context 32, random weights): slots, seeds, stops, streaming.</summary>
public class GeneratorTests
{
    internal const int Context = 32;

    /// <summary>Eleven characters, one per token id of the tiny model.</summary>
    internal static readonly CharTokenizer Tokenizer = CharTokenizer.FromText("abcdefghijk");

    internal static Generator NewGenerator(Session session, int slots, int chunk = 4)
    {
        var overrides = new Dictionary<string, string>(TinyGpt.Overrides) { ["ctx"] = $"{Context}" };
        var decoder = new BatchDecoder(session, (length, perRow) =>
            ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, overrides, Training: false, CacheLength: length, CacheSlots: perRow)), slots, Context, chunk);
        return new Generator(decoder, Tokenizer);
    }

    private static GenerationRequest Request(string prompt, int maxTokens, ulong seed = 1, double temperature = 1) =>
        new(Tokenizer.Encode(prompt)) { MaxTokens = maxTokens, Seed = seed, Sampling = new SamplingOptions(temperature, TopK: 6) };

    [Fact]
    public void A_request_retired_early_frees_its_slot_for_a_waiting_one()
    {
        using var session = TinyGpt.NewSession();
        using var generator = NewGenerator(session, slots: 2);
        int shortOne = generator.Submit(Request("abc", maxTokens: 2));
        int longOne = generator.Submit(Request("defgh", maxTokens: 20));
        int waiting = generator.Submit(Request("ij", maxTokens: 3));
        generator.Step();
        Assert.Equal(3, generator.Active);
        var results = generator.Run();

        var (a, b, c) = (results[shortOne], results[longOne], results[waiting]);
        Assert.Equal([2, 20, 3], results.Select(r => r.GeneratedTokens));
        Assert.All(results, r => Assert.Equal(FinishReason.Length, r.Reason));
        Assert.Equal(a.Slot, c.Slot);
        Assert.NotEqual(a.Slot, b.Slot);
        Assert.Equal(a.RetiredFrame + 1, c.AdmittedFrame);          // admitted the frame after the slot was freed
        Assert.True(c.RetiredFrame < b.RetiredFrame, $"the waiting request finished at frame {c.RetiredFrame}, the long one at {b.RetiredFrame}");
        Assert.Equal(0, generator.Active);
    }

    [Fact]
    public void The_same_seed_gives_the_same_samples_whatever_the_batch()
    {
        string[] prompts = ["a", "kkk", "abcabcabc", "hij", "e", "fedcba", "gg"];
        int[][] Tokens(int slots)
        {
            using var session = TinyGpt.NewSession();
            using var generator = NewGenerator(session, slots);
            for (int i = 0; i < prompts.Length; i++) generator.Submit(Request(prompts[i], maxTokens: 40, seed: (ulong)(100 + i)));
            return [.. generator.Run().Select(r => r.Tokens)];
        }
        var alone = Tokens(1);
        Assert.Equal(alone, Tokens(3));
        Assert.Equal(alone, Tokens(7));
        // Different seeds do draw differently (the test would pass trivially otherwise).
        Assert.True(alone.Distinct(new SequenceComparer()).Count() > 1);
    }

    [Fact]
    public void Generation_runs_past_the_context_by_sliding_the_window()
    {
        using var session = TinyGpt.NewSession();
        using var generator = NewGenerator(session, slots: 2);
        generator.Submit(Request("abcdefghij", maxTokens: 100, temperature: 0));
        var result = generator.Run().Single();
        Assert.Equal(100, result.GeneratedTokens);
        Assert.Equal(100, result.Text.Length);
        Assert.Equal(Tokenizer.Decode(result.Tokens), result.Text);
    }

    [Fact]
    public void Stop_tokens_end_without_being_emitted_and_stop_strings_end_after_them()
    {
        using var session = TinyGpt.NewSession();
        using var generator = NewGenerator(session, slots: 2);
        int reference = generator.Submit(Request("abc", maxTokens: 30, temperature: 0));
        var text = generator.Run()[reference].Text;
        char stopChar = text[5];
        int firstStop = text.IndexOf(stopChar);

        int byToken = generator.Submit(Request("abc", 30, temperature: 0) with { StopTokens = [Tokenizer.Encode(stopChar.ToString())[0]] });
        int byString = generator.Submit(Request("abc", 30, temperature: 0) with { StopStrings = [text.Substring(3, 3)] });
        var results = generator.Run();
        Assert.Equal(FinishReason.StopToken, results[byToken].Reason);
        Assert.Equal(text[..firstStop], results[byToken].Text);
        Assert.Equal(FinishReason.StopString, results[byString].Reason);
        Assert.EndsWith(text.Substring(3, 3), results[byString].Text);
        Assert.StartsWith(results[byString].Text, text);
    }

    [Fact]
    public void Sinks_receive_each_sequences_text_as_it_streams_and_the_result_at_the_end()
    {
        using var session = TinyGpt.NewSession();
        using var generator = NewGenerator(session, slots: 3);
        var sink = new RecordingSink();
        for (int i = 0; i < 4; i++) generator.Submit(Request("ab", maxTokens: 5 + i, seed: (ulong)i) with { Sink = sink });
        var results = generator.Run();
        for (int i = 0; i < 4; i++)
        {
            Assert.Equal(results[i].Text, string.Concat(sink.Pieces.Where(p => p.Request == i).Select(p => p.Text)));
            Assert.Contains(results[i], sink.Finished);
        }
        // Interleaved: the batch streams together, not one sequence after another.
        Assert.NotEqual(sink.Pieces.Select(p => p.Request).Order(), sink.Pieces.Select(p => p.Request));
    }

    [Fact]
    public void A_prompt_longer_than_the_context_is_refused_with_both_lengths()
    {
        using var session = TinyGpt.NewSession();
        using var generator = NewGenerator(session, slots: 1);
        var e = Assert.Throws<ConfigurationException>(() => generator.Submit(new GenerationRequest(new int[Context + 1])));
        Assert.Contains($"{Context + 1} tokens", e.Message);
        Assert.Contains($"context is {Context}", e.Message);
    }

    private sealed class RecordingSink : IGenerationSink
    {
        public List<(int Request, string Text)> Pieces { get; } = [];
        public List<GenerationResult> Finished { get; } = [];
        public void OnText(int request, string piece) => Pieces.Add((request, piece));
        public void OnFinished(GenerationResult result) => Finished.Add(result);
    }

    private sealed class SequenceComparer : IEqualityComparer<int[]>
    {
        public bool Equals(int[]? x, int[]? y) => x!.SequenceEqual(y!);
        public int GetHashCode(int[] obj) => obj.Length == 0 ? 0 : obj[0];
    }
}
