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

/// <summary>One measured configuration: tokens/s of all sequences together, ms per decode step, the weights' bytes, and the seconds spent building the session and warming up (the bench's own cost).</summary>
public sealed record GenerateBenchResult(string Shape, int Batch, string Weights, int Tokens, double TokensPerSecond, double MsPerToken, double TimeToFirstTokenMs, long WeightBytes,
    double SetupSeconds = 0, double WarmupSeconds = 0);

/// <summary>
/// Greedy generation from random weights through the <see cref="Generator"/> (the path <c>generate</c>
/// takes): <c>batch</c> sequences of a prompt of <c>promptTokens</c> ids (default one), each generating
/// <c>tokens</c>, decoded together.
/// The time runs from submission to the last token, prefill included.
/// </summary>
public static class GenerateBench
{
    /// <param name="weights">How the session stores its matrix weights (bf16: rounded at load, half the bytes per step).</param>
    public static GenerateBenchResult Run(string modelPath, GenerateShape shape, int batch, int tokens, int seed, string backend, CompileOptions options, TextWriter? profile = null, int promptTokens = 1,
        WeightStorage weights = WeightStorage.F32)
    {
        var setup = Stopwatch.StartNew();
        using var session = new Session(BackendCatalog.Create(backend), seed, options with { Weights = weights });
        var overrides = CommonOptionsOverrides(shape);
        LoadedModel Load(int length, int? slots) => ModelLoader.Load(modelPath, new ModelOptions(null, overrides, Training: false, CacheLength: length, CacheSlots: slots));
        var decoder = new BatchDecoder(session, Load, batch, shape.Context, Math.Min(64, shape.Context));
        long weightBytes = session.Parameters.Slots.Sum(p => p.StoredBytes);
        using var generator = new Generator(decoder, new IdTokenizer(shape.Vocab));

        double setupSeconds = setup.Elapsed.TotalSeconds;
        var warmup = Stopwatch.StartNew();
        int warmed = WarmUp(generator, batch, promptTokens, tokens);
        double warmupSeconds = warmup.Elapsed.TotalSeconds;

        var clock = Stopwatch.StartNew();
        var results = Generate(generator, batch, promptTokens, tokens).Skip(warmed).ToList();
        double seconds = clock.Elapsed.TotalSeconds;
        int generated = results.Sum(r => r.GeneratedTokens);
        if (profile is not null)
        {
            decoder.DecodeGraph.Profile = decoder.PrefillGraph.Profile = true;
            generator.Submit(new GenerationRequest([.. Enumerable.Range(1, promptTokens)]) { MaxTokens = 20, Sampling = new SamplingOptions(0) });
            for (int frame = 0; generator.Step(); frame++)
                if (frame < 4 || frame % 8 == 0)
                    profile.WriteLine($"frame {frame}: " + string.Join(", ", generator.LastFrameTimings.Select(t => $"{t.System} {t.Elapsed.TotalMilliseconds:F2} ms")));
            decoder.DecodeGraph.Profile = decoder.PrefillGraph.Profile = false;
            var (ids, at) = (new int[batch], new int[batch]);
            long allocated = GC.GetTotalAllocatedBytes(precise: true), start = Stopwatch.GetTimestamp();
            for (int i = 0; i < 20; i++) decoder.Decode(ids, at);
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds / 20;
            profile.WriteLine($"decode step alone (no generator systems): {ms:F2} ms, {(GC.GetTotalAllocatedBytes(precise: true) - allocated) / 20} bytes allocated per step");
            profile.WriteLine("decode step:");
            profile.Write(decoder.DecodeGraph.Describe(withTimings: true));
            profile.WriteLine("prefill chunk:");
            profile.Write(decoder.PrefillGraph.Describe(withTimings: true));
        }
        return new GenerateBenchResult(shape.Name, batch, weights.Name(), tokens, generated / seconds, seconds * 1000 / tokens,
            results.Average(r => r.TimeToFirstToken.TotalMilliseconds), weightBytes, setupSeconds, warmupSeconds);
    }

    /// <summary>
    /// Runs the run's own requests, shorter, until the JIT has stopped compiling (400 ms without a new
    /// compiled method, 5 s at most): that compiles and touches what the run uses (both prefill chunk sizes, the
    /// decode step, every buffer) and lets tiered compilation replace first-call code with optimized code
    /// (on a busy machine that takes seconds), so the timed run measures the steady state, as llama2.c's
    /// compiled loop is measured. Returns how many results the warm-up left in the generator.
    /// </summary>
    private static int WarmUp(Generator generator, int batch, int promptTokens, int tokens)
    {
        int results;
        var clock = Stopwatch.StartNew();
        var window = Stopwatch.StartNew();
        long compiled = System.Runtime.JitInfo.GetCompiledMethodCount();
        while (true)
        {
            results = Generate(generator, batch, promptTokens, Math.Clamp(tokens / 32, 1, 8)).Count;
            if (clock.Elapsed > MaxWarmup) break;
            if (window.Elapsed < QuietWindow) continue;
            // Tiering promotes methods in batches after a pause of 100 ms; a longer window without a compile means it is done.
            long now = System.Runtime.JitInfo.GetCompiledMethodCount();
            if (now == compiled) break;
            compiled = now;
            window.Restart();
        }
        return results;
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

    private static Dictionary<string, string> CommonOptionsOverrides(GenerateShape shape) =>
        shape.Overrides.Select(o => o.Split('=')).ToDictionary(p => p[0], p => p[1]);

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
