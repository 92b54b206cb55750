using Dataflow.Backends.Cpu;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Generation;
using Dataflow.Training;
using Dataflow.Tests.Dsl;

namespace Dataflow.Tests.LanguageModels;

/// <summary>graph/models/gpt.dfg shrunk with --set to run in milliseconds, and ways to get its logits with and without the cache.</summary>
internal static class TinyGpt
{
    public const int Vocab = 11, Context = 8;

    public static readonly string[] Sets = ["layers=2", "heads=2", "d=16", $"ctx={Context}", "dropout=0"];

    public static IReadOnlyDictionary<string, string> Overrides => new Dictionary<string, string>
    {
        ["vocab"] = $"{Vocab}", ["layers"] = "2", ["heads"] = "2", ["d"] = "16", ["ctx"] = $"{Context}", ["dropout"] = "0",
    };

    public static string ModelPath => DslTestSupport.ModelPath("gpt.dfg");

    public static LoadedModel Load(int? cacheLength = null, string? source = null) => source is null
        ? ModelLoader.Load(ModelPath, new ModelOptions(null, Overrides, Training: false, CacheLength: cacheLength))
        : ModelLoader.LoadSource("test.dfg", source, new ModelOptions(Training: false, CacheLength: cacheLength));

    public static Session NewSession(int seed = 7) => new(new CpuBackend(), seed);

    /// <summary>Logits [T, vocab] of the whole sequence through the ordinary (uncached) graph.</summary>
    public static float[] FullLogits(Session session, LoadedModel model, int[] tokens)
    {
        var inputs = LanguageModelInputs.Of(model.Graph);
        var graph = session.Compile(StepGraph.ForwardOnly(model.Graph, includeLoss: false), inputs.Bindings(1, tokens.Length));
        return session.Run(graph, new Dictionary<string, Array> { [inputs.Tokens] = tokens }, [inputs.Logits]).Results[inputs.Logits];
    }

    /// <summary>Logits [T, vocab] through the decode-mode graph, fed in the given chunk sizes.</summary>
    public static float[] CachedLogits(Session session, LoadedModel decodeModel, int[] tokens, params int[] chunks)
    {
        var decoder = new CachedDecoder(session, decodeModel, Context);
        var logits = new List<float>();
        int at = 0;
        foreach (int chunk in chunks.Length == 0 ? Enumerable.Repeat(1, tokens.Length) : chunks)
        {
            logits.AddRange(decoder.Step(tokens[at..(at + chunk)]));
            at += chunk;
        }
        Assert.Equal(tokens.Length, at);
        return [.. logits];
    }

    /// <summary>A text that repeats with a short period, so a tiny model can learn it in a hundred steps.</summary>
    public static string RepetitiveText(int length)
    {
        const string verse = "the cat sat on the mat.\nthe dog sat on the log.\n";
        var text = new System.Text.StringBuilder(length);
        while (text.Length < length) text.Append(verse);
        return text.ToString(0, length);
    }
}
