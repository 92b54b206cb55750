using Dataflow.Graph.Lora;

namespace Dataflow.Training;

/// <summary>
/// Everything <c>dataflow train MODEL --text FILE</c> was asked to do; null means "the model file's
/// default" (or, where the file has none, nanoGPT's).
/// </summary>
public sealed record LanguageModelSettings : RunSettings
{
    public required string TextPath { get; init; }

    /// <summary>The training text itself when it was not read from <see cref="TextPath"/> (a generated corpus; TextPath then only names it).</summary>
    public string? Text { get; init; }

    /// <summary>A tokenizer built by the caller instead of from <see cref="Tokenizer"/> (which then only describes it).</summary>
    public Engine.Tokenizers.ITokenizer? TokenizerInstance { get; init; }

    /// <summary>"char", "bpe:N", a pretrained encoding name or a vocab.json/merges.txt path (TokenizerFactory).</summary>
    public string Tokenizer { get; init; } = "char";

    /// <summary>Total optimizer steps to reach; a resumed run continues to this count.</summary>
    public int? Steps { get; init; }
    public double? MinLearningRate { get; init; }
    public int? Warmup { get; init; }
    public int? EvalInterval { get; init; }
    public int? EvalIters { get; init; }

    /// <summary>
    /// Fine-tune from this language-model checkpoint: its weights, tokenizer, preset and <c>--set</c>
    /// values (which <see cref="RunSettings.Overrides"/> may still change) instead of fresh ones.
    /// </summary>
    public string? FromPath { get; init; }

    /// <summary>Train LoRA adapters on the <see cref="FromPath"/> base; open settings come from the model file's <c>lora(...)</c> line, then the defaults.</summary>
    public LoraSpec? Lora { get; init; }
}
