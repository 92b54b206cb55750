using System.Diagnostics;
using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Data;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Generation;

/// <summary>
/// Autoregressive generation from a language-model checkpoint alone (it carries the model text, the
/// settings and the tokenizer). The prompt is prefilled in one step of the decode-mode graph, then
/// each new token is one step of one position. When the cache is full, the window slides: the last
/// half of the context is prefilled again into an emptied cache (learned positions cannot be shifted
/// in place), so generation can run past the context at the cost of one prefill per half-context.
/// </summary>
public sealed class TextGenerator : IDisposable
{
    public const string EndOfText = PromptEncoder.EndOfText;

    private readonly Session _session;
    private readonly CachedDecoder _decoder;

    private TextGenerator(Session session, CachedDecoder decoder, ITokenizer tokenizer, int context) =>
        (_session, _decoder, Tokenizer, Context) = (session, decoder, tokenizer, context);

    public ITokenizer Tokenizer { get; }

    /// <summary>The context the model was trained on; the prompt must fit in it.</summary>
    public int Context { get; }

    /// <summary>Loads a checkpoint written by language-model training onto <paramref name="backend"/> (which the generator disposes).</summary>
    public static TextGenerator Open(string checkpointPath, IBackend backend, int seed = 1, Engine.Compile.CompileOptions? options = null)
    {
        var opened = CheckpointModel.Open(checkpointPath, backend, seed, (options ?? Engine.Compile.CompileOptions.Default) with { DecodeCopies = true });
        var model = opened.Config.Load(training: false, cacheLength: opened.Config.Context);
        return new TextGenerator(opened.Session, new CachedDecoder(opened.Session, model, opened.Config.Context), opened.Tokenizer, opened.Config.Context);
    }

    /// <summary>The generate verb: streams the prompt and then each piece of generated text to <paramref name="output"/> as it is decoded.</summary>
    public static GenerationStats Run(GenerationSettings s, IBackend backend, TextWriter output)
    {
        var sampling = s.Sampling.Validated();
        using var generator = Open(s.CheckpointPath, backend, s.Seed, s.CompileOptions);
        return generator.Generate(s.Prompt, s.MaxTokens, sampling, s.Seed, output);
    }

    /// <summary>The prompt and its continuation of <paramref name="maxTokens"/> tokens, as one string.</summary>
    public string Generate(string prompt, int maxTokens, SamplingOptions sampling, int seed = 1)
    {
        var output = new StringWriter();
        Generate(prompt, maxTokens, sampling, seed, output);
        return output.ToString();
    }

    /// <summary>Writes the prompt, then each piece of text as it is decoded, then a newline.</summary>
    public GenerationStats Generate(string prompt, int maxTokens, SamplingOptions sampling, int seed, TextWriter output)
    {
        if (maxTokens < 0) throw new ConfigurationException($"--max-tokens {maxTokens}: must not be negative");
        var ids = Encode(prompt);
        var sampler = new Sampler(sampling, new SeededRandom((ulong)seed));
        var stream = new StreamingDecoder(Tokenizer);
        int vocab = Tokenizer.VocabSize;
        _decoder.Reset();

        if (prompt.Length > 0) { output.Write(prompt); output.Flush(); }
        var clock = Stopwatch.StartNew();
        var history = new List<int>(ids);
        var logits = LastRow(_decoder.Step(ids), ids.Length, vocab);
        var prefill = clock.Elapsed;
        for (int i = 0; i < maxTokens; i++)
        {
            int next = sampler.Next(logits);
            history.Add(next);
            string piece = stream.Push(next);
            if (piece.Length > 0) { output.Write(piece); output.Flush(); }
            if (i == maxTokens - 1) break;
            if (_decoder.Position == _decoder.CacheLength)
            {
                _decoder.Reset();
                var window = history.TakeLast(Math.Max(1, _decoder.CacheLength / 2)).ToArray();
                logits = LastRow(_decoder.Step(window), window.Length, vocab);
            }
            else logits = LastRow(_decoder.Step([next]), 1, vocab);
        }
        output.Write(stream.Flush());
        output.WriteLine();
        output.Flush();
        return new GenerationStats(ids.Length, maxTokens, prefill, clock.Elapsed);
    }

    /// <summary>The prompt's tokens; an empty prompt starts from &lt;|endoftext|&gt; where the tokenizer has it.</summary>
    private int[] Encode(string prompt) => PromptEncoder.Encode(Tokenizer, prompt, Context);

    /// <summary>
    /// The last fed token's logits, cut to the tokenizer's ids: a model may pad its vocabulary
    /// (nanoGPT's 50304), and a padding id has no text.
    /// </summary>
    private static float[] LastRow(float[] logits, int fed, int vocab)
    {
        int width = logits.Length / fed;
        return logits.AsSpan(logits.Length - width, Math.Min(width, vocab)).ToArray();
    }

    public void Dispose() => _session.Dispose();
}
