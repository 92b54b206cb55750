using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;
using Dataflow.Engine;
using Dataflow.Training.Tasks;

namespace Dataflow.Training;

/// <summary>
/// How an encoder–decoder model file meets the transduction tasks: inputs <c>source : i32[B, S]</c>,
/// <c>target_in</c> and <c>target_out : i32[B, T]</c>, output <c>logits : f32[B, T, vocab]</c> with a
/// vocabulary that holds the tasks' tokens. A model that does not fit gets a message naming why.
/// </summary>
public sealed record Seq2SeqInputs(string BatchSymbol, string SourceSymbol, string TargetSymbol, int Vocabulary)
{
    public const string Source = "source";
    public const string TargetIn = "target_in";
    public const string TargetOut = "target_out";
    public const string Logits = "logits";

    public static Seq2SeqInputs Of(ComputeGraph graph)
    {
        string Describe() => string.Join(", ", graph.Inputs.Values.Select(n => $"{n.Attrs.Name} : {n.Type}"));
        foreach (var name in new[] { Source, TargetIn, TargetOut })
            if (!graph.Inputs.TryGetValue(name, out var node) || node.DType != DType.I32 || node.Shape.Rank != 2)
                throw new ConfigurationException($"model {graph.Name}: sequence tasks need inputs source : i32[B, S], target_in and target_out : i32[B, T]; the model declares {Describe()}");
        var source = graph.Inputs[Source].Shape;
        var target = graph.Inputs[TargetIn].Shape;
        if (!graph.Inputs[TargetOut].Shape.Equals(target) || source[0] != target[0])
            throw new ConfigurationException($"model {graph.Name}: source, target_in and target_out must share the batch dimension and the targets their shape; the model declares {Describe()}");
        if (!graph.Outputs.TryGetValue(Logits, out var logits) || logits.Shape.Rank != 3 || !logits.Shape.At(-1).IsConstant)
            throw new ConfigurationException($"model {graph.Name} has no output 'logits' : f32[B, T, vocab] to decode from");
        int vocabulary = (int)logits.Shape.At(-1).Value;
        if (vocabulary < TransductionVocabulary.Size)
            throw new ConfigurationException($"model {graph.Name}: the vocabulary has {vocabulary} tokens but the tasks use {TransductionVocabulary.Size} (PAD, BOS, EOS, 0-9); try --set vocab=16");
        return new Seq2SeqInputs(Symbol(graph, source[0], "batch"), Symbol(graph, source[1], "source length"), Symbol(graph, target[1], "target length"), vocabulary);
    }

    /// <summary>Dimension values for a batch: one compiled graph per (batch, source length, target length).</summary>
    public Dictionary<string, long> Bindings(Seq2SeqBatch batch) => new()
    {
        [BatchSymbol] = batch.Count,
        [SourceSymbol] = batch.SourceLength,
        [TargetSymbol] = batch.TargetLength,
    };

    public static Dictionary<string, Array> Feed(Seq2SeqBatch batch) => new()
    {
        [Source] = batch.Source,
        [TargetIn] = batch.TargetIn,
        [TargetOut] = batch.TargetOut,
    };

    private static string Symbol(ComputeGraph graph, Dim dim, string what) =>
        dim.FreeSymbols.SingleOrDefault() is { } s && dim == Dim.Symbol(s) ? s
            : throw new ConfigurationException($"model {graph.Name}: the {what} dimension must be a symbol such as B, S or T, got {dim}");
}
