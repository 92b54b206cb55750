using System.Diagnostics;
using Dataflow.Engine;
using Dataflow.Engine.Backends;

namespace Dataflow.Generation;

/// <summary>What <c>generate</c> produced: each sequence with its prompt, the batch it ran in, and the wall time.</summary>
public sealed record GenerationReport(IReadOnlyList<(string Prompt, GenerationResult Result)> Sequences, int Batch, TimeSpan Total)
{
    public int GeneratedTokens => Sequences.Sum(s => s.Result.GeneratedTokens);
    public double TokensPerSecond => GeneratedTokens / Math.Max(1e-9, Total.TotalSeconds);
}

/// <summary>
/// The generate verb: every prompt (or the one) times <see cref="GenerationSettings.NumSamples"/>,
/// submitted to one <see cref="Generator"/>; the text is streamed to a writer in request order.
/// </summary>
public static class BatchGeneration
{
    public const int DefaultMaxBatch = 16;

    /// <param name="stream">Where to stream the text (null: results only, for --json).</param>
    public static GenerationReport Run(GenerationSettings s, IBackend backend, TextWriter? stream)
    {
        var sampling = s.Sampling.Validated();
        if (s.NumSamples <= 0) throw new ConfigurationException($"--num-samples {s.NumSamples}: must be at least 1");
        if (s.MaxTokens < 0) throw new ConfigurationException($"--max-tokens {s.MaxTokens}: must not be negative");
        if (s.Batch < 0) throw new ConfigurationException($"--batch {s.Batch}: must be positive (or 0 for automatic)");
        var prompts = s.Prompts ?? [(s.Prompt, "--prompt")];
        if (prompts.Count == 0) throw new ConfigurationException("no prompts to continue");
        int requests = prompts.Count * s.NumSamples;
        int batch = s.Batch > 0 ? s.Batch : Math.Min(requests, DefaultMaxBatch);

        using var generator = Generator.Open(s.CheckpointPath, backend, new GeneratorOptions(batch, s.PrefillChunk) { Cache = s.Cache }, s.CompileOptions, s.AdapterPath);
        var encoded = prompts.Select(p => PromptEncoder.Encode(generator.Tokenizer, p.Text, generator.Context, p.Source)).ToList();
        var texts = prompts.SelectMany(p => Enumerable.Repeat(p.Text, s.NumSamples)).ToList();
        var sink = stream is null ? null : new OrderedTextSink(stream, texts);
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < requests; i++)
            generator.Submit(new GenerationRequest(encoded[i / s.NumSamples])
            {
                MaxTokens = s.MaxTokens, Sampling = sampling, Seed = (ulong)(s.Seed + i), StopStrings = s.StopStrings, Sink = sink,
            });
        var results = generator.Run();
        return new GenerationReport([.. results.Select(r => (texts[r.Request], r))], batch, clock.Elapsed);
    }
}
