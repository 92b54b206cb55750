using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ops;

namespace Dataflow.Tests.LanguageModels;

public class KeyValueCacheTests
{
    private static readonly int[] Sequence = [3, 1, 4, 1, 5, 9, 2, 6];

    /// <summary>‖a − b‖∞ / ‖a‖∞ for each position's row of logits.</summary>
    private static void AssertRowsAgree(float[] expected, float[] actual, int vocab, double tolerance)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int row = 0; row < expected.Length / vocab; row++)
        {
            double difference = 0, scale = 0;
            for (int i = row * vocab; i < (row + 1) * vocab; i++)
            {
                difference = Math.Max(difference, Math.Abs(expected[i] - actual[i]));
                scale = Math.Max(scale, Math.Abs(expected[i]));
            }
            Assert.True(difference <= tolerance * scale, $"position {row}: max difference {difference:E3} against max |logit| {scale:E3}");
        }
    }

    [Fact]
    public void Changing_a_future_token_leaves_every_earlier_position_unchanged()
    {
        using var session = TinyGpt.NewSession();
        var model = TinyGpt.Load();
        var baseline = TinyGpt.FullLogits(session, model, Sequence);
        for (int changed = 1; changed < Sequence.Length; changed++)
        {
            var other = (int[])Sequence.Clone();
            other[changed] = (other[changed] + 5) % TinyGpt.Vocab;
            var logits = TinyGpt.FullLogits(session, model, other);
            int before = changed * TinyGpt.Vocab;
            Assert.Equal(baseline[..before], logits[..before]);
            Assert.NotEqual(baseline[before..], logits[before..]);
        }
    }

    [Fact]
    public void Cached_logits_match_the_full_graph_at_every_position()
    {
        using var session = TinyGpt.NewSession();
        var full = TinyGpt.FullLogits(session, TinyGpt.Load(), Sequence);
        var decode = TinyGpt.Load(cacheLength: TinyGpt.Context);
        AssertRowsAgree(full, TinyGpt.CachedLogits(session, decode, Sequence), TinyGpt.Vocab, 1e-5);
        // A prefill of several tokens, then one at a time: what generate does.
        AssertRowsAgree(full, TinyGpt.CachedLogits(session, decode, Sequence, 5, 1, 1, 1), TinyGpt.Vocab, 1e-5);
    }

    [Fact]
    public void Decode_mode_is_generic_sinusoidal_positions_and_an_untied_head_work_too()
    {
        const string source = """
            model lm(vocab = 13, ctx = 6, d = 8, heads = 2)
            input tokens : i32[B, T]
            input targets : i32[B, T]
            wte = embedding(vocab, d)
            h = wte(tokens) + positions(sinusoidal, ctx, d)
            h = h + attention(layernorm(h), heads, causal = true)
            h = h + mlp(layernorm(h), 4 * d, act = relu)
            logits = unembed(layernorm(h), vocab)
            output logits
            loss = cross_entropy(logits, targets)
            """;
        using var session = TinyGpt.NewSession(seed: 3);
        int[] tokens = [12, 0, 7, 7, 3, 1];
        var full = TinyGpt.FullLogits(session, TinyGpt.Load(source: source), tokens);
        var decoder = new Dataflow.Generation.CachedDecoder(session, TinyGpt.Load(cacheLength: 6, source: source), 6);
        var cached = tokens.SelectMany(t => decoder.Step([t])).ToArray();
        AssertRowsAgree(full, cached, 13, 1e-5);
    }

    [Fact]
    public void Decode_mode_keeps_a_cache_per_causal_attention_as_state_neither_fed_nor_fetched()
    {
        var graph = TinyGpt.Load(cacheLength: TinyGpt.Context).Graph;
        string[] caches = ["cache.decoder.0.attention.k", "cache.decoder.0.attention.v", "cache.decoder.1.attention.k", "cache.decoder.1.attention.v"];
        Assert.Equal(caches, graph.Inputs.Keys.Where(DecodeInputs.IsCache).Order());
        Assert.All(caches, name => Assert.True(graph.Inputs[name].Attrs.Persistent));
        Assert.DoesNotContain(graph.Outputs.Keys, DecodeInputs.IsCache);
        Assert.Equal(caches.Length, graph.Nodes.Count(n => n.Op == OpCode.StoreRows));
        Assert.Equal("f32[B, 2, 8, 8]", graph.Inputs["cache.decoder.0.attention.k"].Type.ToString());
        Assert.Equal("i32[B]", graph.Inputs[DecodeInputs.Position].Type.ToString());
        Assert.DoesNotContain(graph.Nodes, n => n.Op == OpCode.CausalMask);
        // The prefill form names a fixed number of slots and a slot per row.
        var prefill = ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, TinyGpt.Overrides, Training: false, CacheLength: 8, CacheSlots: 3)).Graph;
        Assert.Equal("f32[3, 2, 8, 8]", prefill.Inputs["cache.decoder.0.attention.k"].Type.ToString());
        Assert.Equal("i32[B]", prefill.Inputs[DecodeInputs.Slot].Type.ToString());
        // The ordinary graph is untouched by the option's existence.
        Assert.DoesNotContain(TinyGpt.Load().Graph.Inputs.Keys, DecodeInputs.IsCache);
    }

    [Fact]
    public void The_session_holds_the_caches_on_the_device_and_a_step_writes_only_its_own_row()
    {
        using var session = TinyGpt.NewSession();
        var decoder = new Dataflow.Generation.CachedDecoder(session, TinyGpt.Load(cacheLength: TinyGpt.Context), TinyGpt.Context);
        decoder.Step([3, 1]);
        const string keys = "cache.decoder.0.attention.k";
        var before = session.States.Read(keys);      // [1, heads 2, L 8, dk 8]
        decoder.Step([4]);
        var after = session.States.Read(keys);
        for (int head = 0; head < 2; head++)
            for (int position = 0; position < TinyGpt.Context; position++)
            {
                var row = (head * TinyGpt.Context + position) * 8;
                bool changed = !before.AsSpan(row, 8).SequenceEqual(after.AsSpan(row, 8));
                Assert.Equal(position == 2, changed);
            }
    }

    [Fact]
    public void Decode_mode_is_refused_for_training()
    {
        var e = Assert.Throws<DfgException>(() =>
            ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, TinyGpt.Overrides, Training: true, CacheLength: 8)));
        Assert.Contains("inference", e.Diagnostic.ToString());
    }
}
