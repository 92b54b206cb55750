using Dataflow.Engine.Data;
using Dataflow.Engine;
using Dataflow.Generation;

namespace Dataflow.Tests.LanguageModels;

public class SamplerTests
{
    private static readonly float[] Logits = [1.0f, 3.0f, 2.0f, -1.0f, 2.5f];

    private static int[] Draw(SamplingOptions options, ulong seed, int count, float[]? logits = null)
    {
        var sampler = new Sampler(options, new SeededRandom(seed));
        return Enumerable.Range(0, count).Select(_ => sampler.Next(logits ?? Logits)).ToArray();
    }

    [Fact]
    public void Temperature_zero_is_greedy()
    {
        Assert.All(Draw(new SamplingOptions(Temperature: 0), 1, 20), id => Assert.Equal(1, id));
        // Ties go to the lower id.
        Assert.Equal(0, Draw(new SamplingOptions(Temperature: 0), 1, 1, [2f, 2f])[0]);
    }

    [Fact]
    public void Top_k_one_and_a_tiny_top_p_are_greedy_at_any_temperature()
    {
        Assert.All(Draw(new SamplingOptions(Temperature: 5, TopK: 1), 2, 50), id => Assert.Equal(1, id));
        Assert.All(Draw(new SamplingOptions(Temperature: 5, TopP: 1e-6), 3, 50), id => Assert.Equal(1, id));
    }

    [Fact]
    public void Top_k_and_top_p_keep_only_the_most_likely_tokens()
    {
        Assert.All(Draw(new SamplingOptions(TopK: 2), 4, 500), id => Assert.Contains(id, new[] { 1, 4 }));
        // softmax(Logits): p1 ≈ 0.455, p4 ≈ 0.276, p2 ≈ 0.167: 0.455 + 0.276 < 0.8 ≤ + 0.167.
        var nucleus = Draw(new SamplingOptions(TopP: 0.8), 5, 2000);
        Assert.All(nucleus, id => Assert.Contains(id, new[] { 1, 4, 2 }));
        Assert.Contains(2, nucleus);
    }

    [Fact]
    public void Draws_follow_the_softmax_of_the_scaled_logits()
    {
        const int n = 40_000;
        foreach (double temperature in new[] { 1.0, 0.5 })
        {
            var counts = new int[Logits.Length];
            foreach (int id in Draw(new SamplingOptions(Temperature: temperature), 6, n)) counts[id]++;
            var weights = Logits.Select(l => Math.Exp(l / temperature)).ToArray();
            for (int i = 0; i < Logits.Length; i++)
            {
                double expected = weights[i] / weights.Sum();
                Assert.InRange(counts[i] / (double)n, expected - 0.01, expected + 0.01);
            }
        }
    }

    [Fact]
    public void The_same_seed_gives_the_same_tokens()
    {
        var options = new SamplingOptions(Temperature: 1.2, TopK: 4, TopP: 0.95);
        Assert.Equal(Draw(options, 42, 200), Draw(options, 42, 200));
        Assert.NotEqual(Draw(options, 42, 200), Draw(options, 43, 200));
    }

    [Theory]
    [InlineData(1.0, 0, 0.0)]
    [InlineData(1.0, 0, 1.5)]
    [InlineData(1.0, 0, double.NaN)]
    [InlineData(-1.0, 0, 1.0)]
    [InlineData(1.0, -3, 1.0)]
    public void Out_of_range_options_are_configuration_errors(double temperature, int topK, double topP)
    {
        var e = Assert.Throws<ConfigurationException>(() => new Sampler(new SamplingOptions(temperature, topK, topP), new SeededRandom(1)));
        Assert.StartsWith("--", e.Message);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.0)]
    public void Non_finite_logits_are_a_domain_error_whether_greedy_or_sampled(double temperature)
    {
        var sampler = new Sampler(new SamplingOptions(temperature), new SeededRandom(1));
        var e = Assert.Throws<NonFiniteLogitsException>(() => sampler.Next([0.5f, float.NaN, 1f]));
        Assert.Contains("NaN", e.Message);
        Assert.Throws<NonFiniteLogitsException>(() => sampler.Next([float.NegativeInfinity, float.NegativeInfinity]));
        Assert.Equal(1, sampler.Next([float.NegativeInfinity, 3f]));    // a masked token alone is fine
    }

    /// <summary>Vocabulary-sized rows take the vector pass: its check and its argmax against the scalar ones, at every position of a vector and in the tail.</summary>
    [Fact]
    public void Greedy_over_a_vocabulary_row_is_the_first_maximum_and_rejects_a_bad_value_anywhere()
    {
        var random = new Random(5);
        var greedy = new Sampler(new SamplingOptions(0), new SeededRandom(1));
        foreach (int length in new[] { 8, 37, 1000 })
            for (int at = 0; at < length; at += Math.Max(1, length / 17))
            {
                // Values from a few levels, so the maximum repeats; the first copy of it at or after `at` wins.
                var row = Enumerable.Range(0, length).Select(_ => (float)random.Next(-3, 3)).ToArray();
                row[at] = 3;
                if (at + 5 < length) row[at + 5] = 3;
                Assert.Equal(Sampler.ArgMax(row), greedy.Next(row));
                Assert.Equal(row.ToList().IndexOf(3), greedy.Next(row));

                foreach (float bad in new[] { float.NaN, float.PositiveInfinity })
                {
                    var broken = (float[])row.Clone();
                    broken[at] = bad;
                    var e = Assert.Throws<NonFiniteLogitsException>(() => greedy.Next(broken));
                    Assert.Contains($"for token {at} of {length}", e.Message);
                }
            }
        Assert.Throws<NonFiniteLogitsException>(() => greedy.Next(Enumerable.Repeat(float.NegativeInfinity, 37).ToArray()));
        var zeros = new float[40];
        zeros[3] = -0f;
        zeros[20] = float.NegativeInfinity;
        Assert.Equal(0, greedy.Next(zeros));    // −0 = +0: the first zero
        Array.Fill(zeros, -1f, 0, 30);
        zeros[33] = -0f;
        zeros[35] = 0f;
        Assert.Equal(30, greedy.Next(zeros));
    }

    [Fact]
    public void Top_k_selection_draws_what_a_full_sort_of_the_vocabulary_would_with_ties()
    {
        var logits = Enumerable.Range(0, 500).Select(i => (float)(i * 7 % 13)).ToArray();   // many equal logits
        foreach (int k in new[] { 1, 3, 40, 499 })
        {
            var options = new SamplingOptions(Temperature: 0.7, TopK: k);
            var random = new SeededRandom(5);
            var expected = Enumerable.Range(0, 50).Select(_ => FullSortDraw(logits, options, random)).ToArray();
            Assert.Equal(expected, Draw(options, 5, 50, logits));
        }
    }

    /// <summary>The reference: sort every id (larger logit first, then lower id), keep K, draw by the softmax weights.</summary>
    private static int FullSortDraw(float[] logits, SamplingOptions options, SeededRandom random)
    {
        var order = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).ThenBy(i => i).Take(options.TopK).ToArray();
        var weights = order.Select(i => Math.Exp((logits[i] - logits[order[0]]) / options.Temperature)).ToArray();
        double total = 0;
        foreach (var w in weights) total += w;
        double draw = random.NextDouble() * total;
        for (int i = 0; i < order.Length; i++) if ((draw -= weights[i]) < 0) return order[i];
        return order[^1];
    }
}
