using System.Globalization;
using Dataflow.Engine.Compile;
using Dataflow.Graph.Dsl;

namespace Dataflow.Training;

/// <summary>What every training run shares, whatever its examples: the model, the seed, where it checkpoints.</summary>
public abstract record RunSettings
{
    public required string ModelPath { get; init; }
    public int Seed { get; init; } = 1;
    public string? Preset { get; init; }

    /// <summary>Model parameters to override (<c>--set name=value</c>).</summary>
    public IReadOnlyDictionary<string, string> Overrides { get; init; } = new Dictionary<string, string>();

    /// <summary>Mini-batch size; null: the model file's <c>train(batch = …)</c>.</summary>
    public int? Batch { get; init; }

    /// <summary>Peak learning rate; null: the model file's optimizer's.</summary>
    public double? LearningRate { get; init; }

    public string? CheckpointPath { get; init; }
    public string? ResumePath { get; init; }

    /// <summary>Stop after this many evaluations without a lower validation loss; 0: never.</summary>
    public int Patience { get; init; }

    public int Verbose { get; init; }
    public CompileOptions Compile { get; init; } = CompileOptions.Default;

    /// <summary>The model as trained (dropout on) and as evaluated (off): two lowerings of one file.</summary>
    public (LoadedModel Training, LoadedModel Evaluation) LoadModels() => (LoadModel(training: true), LoadModel(training: false));

    /// <summary>The model file with this run's preset and overrides, as trained (dropout on) or evaluated.</summary>
    public LoadedModel LoadModel(bool training) => ModelLoader.Load(ModelPath, new ModelOptions(Preset, Overrides, training));

    /// <summary>
    /// What every checkpoint's config holds: the resolved model settings, the model file's name, the
    /// batch, the seed, the optimizer, the preset and the overrides (as <c>set.NAME</c>).
    /// </summary>
    public static Dictionary<string, string> BaseConfig(LoadedModel model, string modelFile, string? preset, IReadOnlyDictionary<string, string> overrides, int seed, int batch)
    {
        var config = model.Settings.ToDictionary(kv => kv.Key, kv => Format(kv.Value));
        config["model_file"] = Path.GetFileName(modelFile);
        config["batch"] = batch.ToString(CultureInfo.InvariantCulture);
        config["seed"] = seed.ToString(CultureInfo.InvariantCulture);
        config["optimizer"] = model.Training.Optimizer;
        if (preset is not null) config["preset"] = preset;
        foreach (var (name, value) in overrides) config["set." + name] = value;
        return config;
    }

    public Dictionary<string, string> BaseConfig(LoadedModel model, int batch) => BaseConfig(model, ModelPath, Preset, Overrides, Seed, batch);

    public static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
