using Dataflow.Engine.Tokenizers;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Training;

namespace Dataflow.Chat.Sft;

/// <summary>
/// The model SFT starts from: a base checkpoint's config, tokenizer and weights, and the model lowered
/// for training and evaluation. Whatever wraps the model (LoRA adapters) changes <see cref="Training"/>,
/// <see cref="Evaluation"/> and <see cref="DecodeModel"/> before <see cref="SftRun.Plan"/>; parameters the
/// base checkpoint does not hold keep their initialisation.
/// </summary>
public sealed record SftModel(string BasePath, Checkpoint Base, LanguageModelConfig Config, ITokenizer Tokenizer, LoadedModel Training, LoadedModel Evaluation)
{
    /// <summary>The model in decode mode (cache length, slots per row), for generating during evaluation.</summary>
    public Func<int, int?, LoadedModel> DecodeModel { get; init; } = (length, perRow) => Config.Load(training: false, length, perRow);

    /// <summary>Reads a language-model checkpoint written by <c>train --text</c> (or an earlier SFT).</summary>
    public static SftModel Open(string basePath)
    {
        var checkpoint = CheckpointReader.Load(basePath);
        var config = LanguageModelConfig.FromCheckpoint(checkpoint.Header, basePath);
        var tokenizer = TokenizerFactory.FromJson(checkpoint.TokenizerJson
            ?? throw new CheckpointException(basePath, "carries no tokenizer, so conversations cannot be turned into its tokens"));
        return new SftModel(basePath, checkpoint, config, tokenizer, config.Load(training: true), config.Load(training: false));
    }
}
