using System.Diagnostics;
using Dataflow.Backends;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;
using Dataflow.Engine.Tokenizers;
using Dataflow.Generation;
using Dataflow.Graph.Dsl;

namespace Dataflow.Runner.Bench;

/// <summary>A model shape for <c>bench gpt-generate</c>: llama2.c's 15M and 110M sizes with this project's GPT blocks.</summary>
public sealed record GenerateShape(string Name, int D, int Layers, int Heads, int Context, int Vocab = 32000)
{
    public static readonly GenerateShape[] All = [new("15m", 288, 6, 6, 256), new("110m", 768, 12, 12, 1024)];

    public string[] Overrides => [$"vocab={Vocab}", $"ctx={Context}", $"d={D}", $"heads={Heads}", $"layers={Layers}", "dropout=0"];
}

/// <summary>
/// One measured configuration: tokens/s of all sequences together, ms per decode step, the weights' bytes, the
/// mean time to first token of the timed run's sequences, the time to first token of one 64-token prompt
/// alone (median of five, after warming its path), and the seconds spent building the model (first row of a shape only) and warming up.
/// </summary>
public sealed record GenerateBenchResult(string Shape, int Batch, string Weights, string Cache, int Tokens, double TokensPerSecond, double MsPerToken, double TimeToFirstTokenMs, long WeightBytes,
    double SetupSeconds = 0, double WarmupSeconds = 0, double PromptTimeToFirstTokenMs = 0);

/// <summary>
/// One shape's random-weight model on one session, with one <see cref="BatchDecoder"/> of
/// <paramref name="Slots"/> slots and its <see cref="Generator"/>: every batch size up to the slots runs
/// on it (a step of fewer sequences runs the decoder's narrower graph), so the model is built and the
/// graphs compiled once per shape, not once per row.
/// </summary>
public sealed record GenerateBenchModel(GenerateShape Shape, WeightStorage Weights, CacheStorage Cache, Session Session, BatchDecoder Decoder, Generator Generator, long WeightBytes, long ParameterCount, double SetupSeconds) : IDisposable
{
    public int Slots => Decoder.Slots;

    /// <param name="weights">How the session stores its matrix weights (bf16: rounded at load, half the bytes per step).</param>
    /// <param name="cache">How the key/value caches store keys and values (bf16: half the bytes attention reads).</param>
    public static GenerateBenchModel Open(string modelPath, GenerateShape shape, int slots, int seed, string backend, CompileOptions options,
        WeightStorage weights = WeightStorage.F32, CacheStorage cache = CacheStorage.F32)
    {
        var setup = Stopwatch.StartNew();
        var session = new Session(BackendCatalog.Create(backend), seed, options with { Weights = weights, DecodeCopies = true });
        try
        {
            var overrides = shape.Overrides.Select(o => o.Split('=')).ToDictionary(p => p[0], p => p[1]);
            LoadedModel Load(int length, int? perRow) => ModelLoader.Load(modelPath, new ModelOptions(null, overrides, Training: false, CacheLength: length, CacheSlots: perRow) { Cache = cache });
            var decoder = new BatchDecoder(session, Load, slots, shape.Context, Math.Min(GenerateBench.PromptTokens, shape.Context));
            var parameters = session.Parameters.Slots;
            return new GenerateBenchModel(shape, weights, cache, session, decoder, new Generator(decoder, new IdTokenizer(shape.Vocab)),
                parameters.Sum(p => p.StoredBytes), parameters.Sum(p => p.Elements), setup.Elapsed.TotalSeconds);
        }
        catch { session.Dispose(); throw; }
    }

    public void Dispose()
    {
        Generator.Dispose();
        Session.Dispose();
    }

    /// <summary>Token ids as text (the bench never shows it): one "character" per id, so the stream system has something to decode.</summary>
    private sealed class IdTokenizer(int vocab) : ITokenizer
    {
        public string Kind => "ids";
        public int VocabSize => vocab;
        public IReadOnlyDictionary<string, int> SpecialTokens { get; } = new Dictionary<string, int>();
        public int[] Encode(string text) => [.. text.Select(c => (int)c)];
        public string Decode(ReadOnlySpan<int> ids) => new('x', ids.Length);
        public string ToJson() => "{\"kind\":\"ids\"}";
    }
}

/// <summary>
/// Greedy generation from random weights through the <see cref="Generator"/> (the path <c>generate</c>
/// takes): <c>batch</c> sequences of a prompt of <c>promptTokens</c> ids (default one), each generating
/// <c>tokens</c>, decoded together.
/// The time runs from submission to the last token, prefill included.
/// </summary>
public static class GenerateBench
{
    /// <summary>The prompt of the time-to-first-token figure (issue 11's target: ≤ 20 ms on the 15M shape), and the prefill chunk.</summary>
    public const int PromptTokens = 64;

    /// <param name="budget">
    /// About how long the timed run may take: when the warm-up's frames say that <paramref name="tokens"/> per
    /// sequence would take longer (a loaded machine), fewer are timed (at least 32; <see cref="GenerateBenchResult.Tokens"/>
    /// says how many), so the whole bench stays within minutes. Attention is the only cost that grows with the
    /// position (a few percent of a batch-1 step on these shapes, about a third of a 16-row step at position
    /// 128), so a shorter run is that much faster per token: the tokens column says when a row was shortened.
    /// </param>
    public static GenerateBenchResult Run(GenerateBenchModel model, int batch, int tokens, TextWriter? profile = null, int promptTokens = 1, bool first = true, TimeSpan? budget = null)
    {
        if (batch > model.Slots) throw new ArgumentOutOfRangeException(nameof(batch), $"batch {batch} on a decoder of {model.Slots} slots");
        var (decoder, generator) = (model.Decoder, model.Generator);
        var warmup = Stopwatch.StartNew();
        var (warmed, frameSeconds) = WarmUp(generator, batch, promptTokens, tokens);
        double warmupSeconds = warmup.Elapsed.TotalSeconds;
        if (budget is { } limit && frameSeconds * tokens > limit.TotalSeconds)
            tokens = Math.Min(tokens, Math.Max(32, (int)(limit.TotalSeconds / frameSeconds)));

        var clock = Stopwatch.StartNew();
        var results = Generate(generator, batch, promptTokens, tokens).Skip(warmed).ToList();
        double seconds = clock.Elapsed.TotalSeconds;
        int generated = results.Sum(r => r.GeneratedTokens);
        double prompt = PromptTimeToFirstToken(generator);
        if (profile is not null) Profile(decoder, generator, batch, promptTokens, profile);
        return new GenerateBenchResult(model.Shape.Name, batch, model.Weights.Name(), model.Cache.Name(), tokens, generated / seconds, seconds * 1000 / tokens,
            results.Average(r => r.TimeToFirstToken.TotalMilliseconds), model.WeightBytes, first ? model.SetupSeconds : 0, warmupSeconds, prompt);
    }

    /// <summary>
    /// Time to first token of one <see cref="PromptTokens"/>-token prompt with nothing else running, after
    /// such prompts warmed the prefill chunk's path until the JIT stopped compiling (as <see cref="WarmUp"/> does
    /// for the run: the timed run's prompts are shorter and never reach this chunk, whose GEMMs of 64 rows are
    /// code no decode step calls, so without it the figure caught first-call code): submission, admission, the
    /// whole prompt prefilled in one graph call (one chunk), the greedy sample. Graph compilation (once per
    /// decoder) is not in it; the median of five.
    /// </summary>
    private static double PromptTimeToFirstToken(Generator generator)
    {
        int length = Math.Min(PromptTokens, generator.Context);
        double Once(int i)
        {
            int id = generator.Submit(new GenerationRequest([.. Enumerable.Range(3 + i % 7, length)]) { MaxTokens = 1, Sampling = new SamplingOptions(0) });
            generator.Run();
            return generator.Result(id)!.TimeToFirstToken.TotalMilliseconds;
        }
        var clock = Stopwatch.StartNew();
        var window = Stopwatch.StartNew();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        for (int i = 0; clock.Elapsed < MaxWarmup; i++)
        {
            Once(i);
            if (window.Elapsed < QuietWindow) continue;
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now == compiled) break;
            compiled = now;
            window.Restart();
        }
        var times = Enumerable.Range(0, 5).Select(Once).Order().ToList();
        return times[times.Count / 2];
    }

    /// <summary>Per-frame system times of a short run, the allocation of a bare decode step, and the kernels of the step and of the prefill chunk, with their times.</summary>
    private static void Profile(BatchDecoder decoder, Generator generator, int batch, int promptTokens, TextWriter profile)
    {
        var step = decoder.CompiledStepFor(batch);
        decoder.PrefillGraph.Profile = true;
        for (int i = 0; i < batch; i++)
            generator.Submit(new GenerationRequest([.. Enumerable.Range(1 + i, promptTokens)]) { MaxTokens = 20, Sampling = new SamplingOptions(0) });
        for (int frame = 0; generator.Step(); frame++)
            if (frame < 4 || frame % 8 == 0)
                profile.WriteLine($"frame {frame}: " + string.Join(", ", generator.LastFrameTimings.Select(t => $"{t.System} {t.Elapsed.TotalMilliseconds:F2} ms")));
        decoder.PrefillGraph.Profile = false;
        // The first `batch` slots decode at position 0, the others idle: the step `batch` sequences run.
        var (ids, at) = (new int[decoder.Slots], new int[decoder.Slots]);
        at.AsSpan(batch).Fill(decoder.CacheLength);
        long allocated = GC.GetTotalAllocatedBytes(precise: true), start = Stopwatch.GetTimestamp();
        for (int i = 0; i < 20; i++) decoder.Decode(ids, at);
        double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / 20;
        profile.WriteLine($"decode step alone (no generator systems, {decoder.LastWidth} rows): {ms:F2} ms, {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 20} bytes allocated per step");
        step.Profile = true;    // the kernel times below: 20 more bare steps
        for (int i = 0; i < 20; i++) decoder.Decode(ids, at);
        step.Profile = false;
        profile.WriteLine("decode step:");
        profile.Write(step.Describe(withTimings: true));
        profile.WriteLine("prefill chunk:");
        profile.Write(decoder.PrefillGraph.Describe(withTimings: true));
    }

    /// <summary>
    /// Runs the run's own requests, shorter, until the JIT has stopped compiling (400 ms without a new
    /// compiled method, 5 s at most): that compiles and touches what the run uses (both prefill chunk sizes, the
    /// decode step, every buffer) and lets tiered compilation replace first-call code with optimized code
    /// (on a busy machine that takes seconds), so the timed run measures the steady state, as llama2.c's
    /// compiled loop is measured. Returns how many results the warm-up left in the generator and the seconds per
    /// frame of its last round (prefill included, so a little more than a decode step).
    /// </summary>
    private static (int Results, double FrameSeconds) WarmUp(Generator generator, int batch, int promptTokens, int tokens)
    {
        int results;
        double frameSeconds;
        var clock = Stopwatch.StartNew();
        var window = Stopwatch.StartNew();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        int length = Math.Clamp(tokens / 32, 1, 8);
        while (true)
        {
            var round = Stopwatch.StartNew();
            long frames = generator.Frame;
            results = Generate(generator, batch, promptTokens, length).Count;
            frameSeconds = round.Elapsed.TotalSeconds / Math.Max(1, generator.Frame - frames);
            if (clock.Elapsed > MaxWarmup) break;
            if (window.Elapsed < QuietWindow) continue;
            // Tiering promotes methods in batches after a pause of 100 ms; a longer window without a compile means it is done.
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now == compiled) break;
            compiled = now;
            window.Restart();
        }
        return (results, frameSeconds);
    }

    private static readonly TimeSpan QuietWindow = TimeSpan.FromMilliseconds(400);
    private static readonly TimeSpan MaxWarmup = TimeSpan.FromSeconds(5);

    /// <summary>Submits <paramref name="batch"/> greedy requests and runs them to the end; returns every result so far.</summary>
    private static IReadOnlyList<GenerationResult> Generate(Generator generator, int batch, int promptTokens, int tokens)
    {
        for (int i = 0; i < batch; i++)
            generator.Submit(new GenerationRequest([.. Enumerable.Range(1 + i, promptTokens)]) { MaxTokens = tokens, Sampling = new SamplingOptions(0) });
        return generator.Run();
    }
}
