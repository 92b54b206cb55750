using System.Globalization;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Engine;
using Dataflow.Graph.Lora;

namespace Dataflow.Training;

/// <summary>
/// What a language-model checkpoint's config must hold for <c>generate</c> to need nothing but the
/// checkpoint: the model file's text (not just its name), the preset and overrides it was loaded
/// with (the tokenizer's vocabulary size among them), and the context it was trained on. The
/// resolved settings are stored too, for <c>inspect</c> and for people.
/// </summary>
public sealed record LanguageModelConfig(string ModelFile, string ModelSource, string? Preset, IReadOnlyDictionary<string, string> Overrides, int Context)
{
    private const string Kind = "language_model";

    /// <summary>Adapters to lower the model with (a LoRA run, or a base opened with its adapter); null: the plain model.</summary>
    public LoraConfig? Lora { get; init; }

    /// <summary>How decode mode stores its key/value caches (<see cref="CacheStorage"/>); a choice of the run, not stored in the checkpoint.</summary>
    public CacheStorage Cache { get; init; }

    public ModelOptions Options(bool training, int? cacheLength = null, int? cacheSlots = null) => new(Preset, Overrides, training, cacheLength, cacheSlots) { Lora = Lora, Cache = Cache };

    /// <summary>The model lowered again from the stored text, as it was trained or in decode mode (<see cref="ModelOptions"/>).</summary>
    public LoadedModel Load(bool training, int? cacheLength = null, int? cacheSlots = null) =>
        ModelLoader.LoadSource(ModelFile, ModelSource, Options(training, cacheLength, cacheSlots));

    /// <summary>The checkpoint config: what every run stores (<see cref="RunSettings.BaseConfig(LoadedModel, string, string?, IReadOnlyDictionary{string, string}, int, int)"/>), <paramref name="extra"/>, and what generation needs.</summary>
    public Dictionary<string, string> ToConfig(LoadedModel model, int seed, int batch, IReadOnlyDictionary<string, string> extra)
    {
        var config = RunSettings.BaseConfig(model, ModelFile, Preset, Overrides, seed, batch);
        foreach (var (key, value) in extra) config[key] = value;
        config["kind"] = Kind;
        config["model_source"] = ModelSource;
        config["context"] = Context.ToString(CultureInfo.InvariantCulture);
        return config;
    }

    public static LanguageModelConfig FromCheckpoint(CheckpointHeader header, string path)
    {
        var config = header.Config;
        string Need(string key) => config.TryGetValue(key, out var value) ? value
            : throw new CheckpointException(path, $"not a language-model checkpoint (its config has no '{key}'; it was not written by train --text)");
        if (config.GetValueOrDefault("kind") == LoraAdapter.Kind)
            throw new CheckpointException(path, "a LoRA adapter, not a model: give its base as --checkpoint and this file as --adapter");
        if (Need("kind") != Kind) throw new CheckpointException(path, $"a {config["kind"]} checkpoint, not a language model's");
        if (!int.TryParse(Need("context"), NumberStyles.None, CultureInfo.InvariantCulture, out int context) || context <= 0)
            throw new CheckpointException(path, $"the config's context '{config["context"]}' is not a positive whole number");
        var overrides = config.Where(kv => kv.Key.StartsWith("set.", StringComparison.Ordinal))
            .ToDictionary(kv => kv.Key["set.".Length..], kv => kv.Value, StringComparer.Ordinal);
        return new LanguageModelConfig(Need("model_file"), Need("model_source"), config.GetValueOrDefault("preset"), overrides, context);
    }
}
