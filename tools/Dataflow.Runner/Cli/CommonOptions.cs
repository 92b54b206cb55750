using System.CommandLine;
using System.Globalization;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Dsl;

namespace Dataflow.Runner.Cli;

/// <summary>Options several verbs share, declared once so their names and help read the same everywhere.</summary>
public static class CommonOptions
{
    public static Option<string[]> Set() => new("--set")
    {
        Description = "Override a model parameter: --set name=value (repeatable)",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };

    public static Option<string?> Preset() => new("--preset") { Description = "Use a named preset of the model" };
    public static Option<bool> Json() => new("--json") { Description = "Print one JSON object on stdout (human output goes to stderr)" };
    public static Option<int> Seed() => new("--seed") { Description = "Random seed for initialisation, data order and dropout", DefaultValueFactory = _ => 1 };
    public static Option<string> Backend() => new("--backend") { Description = "cpu | opencl | vulkan | auto", DefaultValueFactory = _ => "cpu" };
    /// <summary>The training verbs' levels, as the Trainer prints them (each level adds to the ones below).</summary>
    public static Option<int> Verbose() => new("--verbose") { Description = "0..4: 1 device, kernel counts and where they run, 2 per-kernel timings, 3 the fused kernels, 4 each kernel's generated source (OpenCL C, GLSL; the CPU has none)", DefaultValueFactory = _ => 0 };

    /// <summary>generate's levels: it prints no kernel detail, so 1 is all there is.</summary>
    public static Option<int> GenerationVerbose() => new("--verbose") { Description = "0..4: 1 and above add a summary on stderr (sequences, batch, tokens, tokens/s)", DefaultValueFactory = _ => 0 };
    public static Option<string> Weights() => new("--weights")
    {
        Description = $"How inference stores matrix weights: {WeightStorageNames.Choices} (bf16: rounded to bfloat16 once at load, half the bytes a decode step reads; cpu backend only)",
        DefaultValueFactory = _ => "f32",
    };

    /// <summary>The <c>--weights</c> value as a storage; anything else is a usage error naming it.</summary>
    public static WeightStorage ParseWeights(string? text) =>
        WeightStorageNames.TryParse(text, out var storage) ? storage : throw new UsageException($"--weights {text}: expected {WeightStorageNames.Choices}");

    public static Option<string> KvCache() => new("--kv-cache")
    {
        Description = $"How the key/value caches store keys and values: {CacheStorageNames.Choices} (bf16: rounded as written, half the bytes attention reads; cpu backend only)",
        DefaultValueFactory = _ => "f32",
    };

    /// <summary>The <c>--kv-cache</c> value as a storage; anything else is a usage error naming it.</summary>
    public static CacheStorage ParseKvCache(string? text) =>
        CacheStorageNames.TryParse(text, out var storage) ? storage : throw new UsageException($"--kv-cache {text}: expected {CacheStorageNames.Choices}");

    public static Option<bool> NoFusion() => new("--no-fusion") { Description = "Run one kernel per op (to halve a suspected fusion bug)" };

    /// <summary>Parses repeated <c>name=value</c> pairs; a malformed one is a usage error naming it.</summary>
    public static IReadOnlyDictionary<string, string> ParseOverrides(IEnumerable<string>? pairs)
    {
        var overrides = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var pair in pairs ?? [])
        {
            int eq = pair.IndexOf('=');
            if (eq <= 0 || eq == pair.Length - 1)
                throw new UsageException($"--set {pair}: expected name=value");
            overrides[pair[..eq].Trim()] = pair[(eq + 1)..].Trim();
        }
        return overrides;
    }

    public static ModelOptions ModelOptions(string? preset, IEnumerable<string>? overrides, bool training) =>
        new(preset, ParseOverrides(overrides), training);

    public static string Format(double value) => value.ToString("G6", CultureInfo.InvariantCulture);
}
