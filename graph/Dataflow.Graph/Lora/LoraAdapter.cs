using System.Globalization;
using Dataflow.Graph.Checkpoints;

namespace Dataflow.Graph.Lora;

/// <summary>
/// An adapter checkpoint: an ordinary checkpoint file whose tensors are only the LoRA A and B
/// matrices, and whose config says <c>kind = lora_adapter</c>, the <see cref="LoraConfig"/>, and the
/// checksum and name of the base checkpoint it was trained on (peft's adapter_model file plus the
/// base's identity). It holds no optimizer state, no tokenizer and no model text: those are the base's.
/// </summary>
public sealed class LoraAdapter
{
    public const string Kind = "lora_adapter";
    private const string BaseChecksumKey = "lora.base_sha256", BaseFileKey = "lora.base_file";

    private LoraAdapter(string path, Checkpoint checkpoint, LoraConfig config, string baseChecksum, string baseFile)
        => (Path, Checkpoint, Config, BaseChecksum, BaseFile) = (path, checkpoint, config, baseChecksum, baseFile);

    public string Path { get; }
    public Checkpoint Checkpoint { get; }
    public LoraConfig Config { get; }
    public string BaseChecksum { get; }

    /// <summary>The base's path as the training run was given it, for messages.</summary>
    public string BaseFile { get; }

    public IReadOnlyList<NamedTensor> Tensors => Checkpoint.Tensors;

    /// <summary>The checkpoint to write for adapter <paramref name="tensors"/> trained on the base at <paramref name="basePath"/>.</summary>
    public static Checkpoint Create(string graphName, long step, LoraConfig config, string basePath, IReadOnlyList<NamedTensor> tensors,
        IReadOnlyDictionary<string, string>? extraConfig = null)
    {
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in extraConfig ?? new Dictionary<string, string>()) settings[key] = value;
        settings["kind"] = Kind;
        config.WriteTo(settings);
        settings[BaseChecksumKey] = CheckpointChecksum.Of(basePath);
        settings[BaseFileKey] = basePath;
        var layout = ParameterLayout.Hash(tensors.Select(t => (t.Name, t.Shape)));
        return new Checkpoint
        {
            Header = CheckpointHeader.Create(graphName, layout, step, DateTimeOffset.UtcNow, settings),
            Tensors = tensors,
            OptimizerState = [],
            RngState = [],
        };
    }

    /// <summary>Reads an adapter file; a plain checkpoint or a malformed config is a <see cref="CheckpointException"/> naming it.</summary>
    public static LoraAdapter Read(string path)
    {
        var checkpoint = CheckpointReader.Load(path);
        var config = checkpoint.Header.Config;
        if (config.GetValueOrDefault("kind") != Kind)
            throw new CheckpointException(path, $"not a LoRA adapter but a plain {config.GetValueOrDefault("kind") ?? "model"} checkpoint (an adapter is written by train --lora)");
        LoraConfig lora;
        try
        {
            lora = LoraConfig.ReadFrom(config) ?? throw new LoraException("its config has no lora.rank");
        }
        catch (LoraException e)
        {
            throw new CheckpointException(path, "a malformed LoRA adapter: " + e.Message);
        }
        string Need(string key) => config.TryGetValue(key, out var value) ? value : throw new CheckpointException(path, $"a malformed LoRA adapter: its config has no '{key}'");
        return new LoraAdapter(path, checkpoint, lora, Need(BaseChecksumKey), Need(BaseFileKey));
    }

    /// <summary>Refuses a base other than the one this adapter was trained on, naming both files.</summary>
    public void CheckBase(string basePath)
    {
        var actual = CheckpointChecksum.Of(basePath);
        if (actual == BaseChecksum) return;
        throw new CheckpointException(Path,
            $"this LoRA adapter was trained on the base {BaseFile} (checksum {BaseChecksum[..16]}…), not on {basePath} (checksum {actual[..16]}…); " +
            "give the base it was trained from");
    }

    /// <summary>The adapters' base weights: <c>SCOPE.weight</c> for each pair <c>SCOPE.lora_a</c>, <c>SCOPE.lora_b</c>.</summary>
    public IEnumerable<(string Weight, NamedTensor A, NamedTensor B)> Pairs()
    {
        var byName = Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var a in Tensors.Where(t => t.Name.EndsWith("." + LoraConfig.ASuffix, StringComparison.Ordinal)))
        {
            var scope = a.Name[..^(LoraConfig.ASuffix.Length + 1)];
            if (!byName.TryGetValue(scope + "." + LoraConfig.BSuffix, out var b))
                throw new CheckpointException(Path, $"adapter tensor '{a.Name}' has no '{scope}.{LoraConfig.BSuffix}'");
            yield return (scope + ".weight", a, b);
        }
    }

    /// <summary>The trained token rows: <c>SCOPE.weight</c>'s rows <see cref="LoraConfig.TokenRows"/> take <c>SCOPE.token_rows</c> [rows, d] on top.</summary>
    public IEnumerable<(string Weight, NamedTensor Delta)> TokenRowDeltas()
    {
        foreach (var delta in Tensors.Where(t => t.Name.EndsWith("." + LoraConfig.TokenRowsSuffix, StringComparison.Ordinal)))
        {
            if (delta.Shape.Length != 2 || delta.Shape[0] != Config.TokenRows.Count)
                throw new CheckpointException(Path, $"adapter tensor '{delta.Name}' {CheckpointFormat.ShapeText(delta.Shape)} does not hold the {Config.TokenRows.Count} token rows its config names");
            yield return (delta.Name[..^LoraConfig.TokenRowsSuffix.Length] + "weight", delta);
        }
    }

    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LoRA {Config} on base {BaseFile}");
}
