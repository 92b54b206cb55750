using System.Diagnostics;
using System.Globalization;
using Dataflow.Engine.Data;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Training;

namespace Dataflow.Runner.Generation;

/// <summary>
/// Autoregressive generation from a language-model checkpoint alone (it carries the model text, the
/// settings and the tokenizer). The prompt is prefilled in one step of the decode-mode graph, then
/// each new token is one step of one position. When the cache is full, the window slides: the last
/// half of the context is prefilled again into an emptied cache (learned positions cannot be shifted
/// in place), so generation can run past the context at the cost of one prefill per half-context.
/// </summary>
public static class TextGenerator
{
    public const string EndOfText = "<|endoftext|>";

    /// <summary>Streams the prompt and then each piece of generated text to <paramref name="output"/> as it is decoded.</summary>
    public static void Run(GenerationSettings s, TextWriter output, TextWriter log)
    {
        var sampling = s.Sampling.Validated();
        if (s.MaxTokens < 0) throw new UsageException($"--max-tokens {s.MaxTokens}: must not be negative");
        var checkpoint = CheckpointReader.Load(s.CheckpointPath);
        var config = LanguageModelConfig.FromCheckpoint(checkpoint.Header, s.CheckpointPath);
        var tokenizer = TokenizerFactory.FromJson(checkpoint.TokenizerJson
            ?? throw new CheckpointException(s.CheckpointPath, "carries no tokenizer, so its tokens cannot be turned into text"));
        var prompt = Encode(s.Prompt, tokenizer, config.Context);

        var model = config.Load(training: false, cacheLength: config.Context);
        using var session = new Session(BackendFactory.Create(s.Backend), s.Seed, s.CompileOptions);
        SessionCheckpoint.Load(session, model.Graph, s.CheckpointPath);
        var decoder = new CachedDecoder(session, model, config.Context);
        var sampler = new Sampler(sampling, new SeededRandom((ulong)s.Seed));
        var stream = new StreamingDecoder(tokenizer);
        int vocab = tokenizer.VocabSize;

        if (s.Prompt.Length > 0) { output.Write(s.Prompt); output.Flush(); }
        var clock = Stopwatch.StartNew();
        var history = new List<int>(prompt);
        var logits = LastRow(decoder.Step(prompt), prompt.Length, vocab);
        var prefill = clock.Elapsed;
        for (int i = 0; i < s.MaxTokens; i++)
        {
            int next = sampler.Next(logits);
            history.Add(next);
            string piece = stream.Push(next);
            if (piece.Length > 0) { output.Write(piece); output.Flush(); }
            if (i == s.MaxTokens - 1) break;
            if (decoder.Position == decoder.CacheLength)
            {
                decoder.Reset();
                var window = history.TakeLast(Math.Max(1, decoder.CacheLength / 2)).ToArray();
                logits = LastRow(decoder.Step(window), window.Length, vocab);
            }
            else logits = LastRow(decoder.Step([next]), 1, vocab);
        }
        output.Write(stream.Flush());
        output.WriteLine();
        output.Flush();
        if (s.Verbose >= 1)
            log.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"prefill {prompt.Length} tokens in {prefill.TotalMilliseconds:F1} ms; {s.MaxTokens} tokens in {clock.Elapsed.TotalSeconds:F2} s " +
                $"({(clock.Elapsed - prefill).TotalMilliseconds / Math.Max(1, s.MaxTokens - 1):F2} ms/token)"));
    }

    /// <summary>The prompt's tokens; an empty prompt starts from &lt;|endoftext|&gt; where the tokenizer has it.</summary>
    private static int[] Encode(string prompt, ITokenizer tokenizer, int context)
    {
        if (prompt.Length == 0)
            return tokenizer.SpecialTokens.TryGetValue(EndOfText, out int eot)
                ? [eot]
                : throw new UsageException($"--prompt is empty and the {tokenizer.Kind} tokenizer has no {EndOfText} to start from; give a prompt");
        int[] ids = tokenizer.Encode(prompt);
        if (ids.Length > context)
            throw new UsageException($"--prompt is {ids.Length} tokens but the model's context is {context} tokens; shorten the prompt");
        return ids;
    }

    /// <summary>
    /// The last fed token's logits, cut to the tokenizer's ids: a model may pad its vocabulary
    /// (nanoGPT's 50304), and a padding id has no text.
    /// </summary>
    private static float[] LastRow(float[] logits, int fed, int vocab)
    {
        int width = logits.Length / fed;
        return logits.AsSpan(logits.Length - width, Math.Min(width, vocab)).ToArray();
    }
}
