namespace Dataflow.Training;

/// <summary>
/// Everything <c>dataflow train MODEL --text FILE</c> was asked to do; null means "the model file's
/// default" (or, where the file has none, nanoGPT's).
/// </summary>
public sealed record LanguageModelSettings : RunSettings
{
    public required string TextPath { get; init; }

    /// <summary>"char", "bpe:N", a pretrained encoding name or a vocab.json/merges.txt path (TokenizerFactory).</summary>
    public string Tokenizer { get; init; } = "char";

    /// <summary>Total optimizer steps to reach; a resumed run continues to this count.</summary>
    public int? Steps { get; init; }
    public double? MinLearningRate { get; init; }
    public int? Warmup { get; init; }
    public int? EvalInterval { get; init; }
    public int? EvalIters { get; init; }
}
