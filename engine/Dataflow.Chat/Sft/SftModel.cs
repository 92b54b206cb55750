using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Lora;
using Dataflow.Training;

namespace Dataflow.Chat.Sft;

/// <summary>
/// The model SFT starts from: a base checkpoint's config, tokenizer and weights, and the model lowered
/// for training and evaluation (with LoRA adapters when asked: the config carries them, so every
/// lowering, decode mode included, has them).
/// </summary>
public sealed record SftModel(string BasePath, Checkpoint Base, LanguageModelConfig Config, ITokenizer Tokenizer, LoadedModel Training, LoadedModel Evaluation)
{
    /// <summary>The model in decode mode (cache length, slots per row), for generating during evaluation.</summary>
    public Func<int, int?, LoadedModel> DecodeModel { get; init; } = (length, perRow) => Config.Load(training: false, length, perRow);

    /// <summary>
    /// Reads a language-model checkpoint written by <c>train --text</c> (or an earlier SFT). With
    /// <paramref name="lora"/> the model is lowered with adapters (settings it leaves open come from the
    /// model file's <c>lora(...)</c> line; the special tokens' embedding rows train unless one says
    /// <c>tokens = none</c>): the Trainer then freezes the base and writes an adapter file.
    /// </summary>
    public static SftModel Open(string basePath, LoraSpec? lora = null)
    {
        var stored = LanguageModelCheckpoint.Read(basePath);
        var (checkpoint, config, tokenizer) = (stored.Checkpoint, stored.Config, stored.Tokenizer);
        if (lora is not null)
        {
            var declared = config.Load(training: false).DeclaredLora;
            // The chat markers are new to every base (its corpus is plain prose), so SFT trains their rows
            // unless the flag or the model file says tokens = none: a frozen table cannot write <|python_end|>.
            lora = lora with { Tokens = lora.Tokens ?? declared?.Tokens ?? LoraSpec.SpecialTokens };
            config = config with { Lora = lora.Resolve(declared, tokenizer.SpecialTokens.Values) };
        }
        return new SftModel(basePath, checkpoint, config, tokenizer, config.Load(training: true), config.Load(training: false));
    }
}
