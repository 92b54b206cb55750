using System.Globalization;

namespace Dataflow.Graph.Lora;

/// <summary>
/// A LoRA request with some settings left open: what <c>--lora rank=4</c> or a model file's
/// <c>lora(...)</c> line says. <see cref="Resolve"/> fills the gaps from another spec (the flag's from
/// the model file's declaration), then from the defaults: rank 8, alpha 16, targets qkv and proj, no
/// token rows. <see cref="Tokens"/> is <c>special</c> (train the embedding rows of the tokenizer's
/// special tokens) or <c>none</c>.
/// </summary>
public sealed record LoraSpec(int? Rank = null, double? Alpha = null, IReadOnlyList<string>? Targets = null, string? Tokens = null)
{
    public static readonly LoraSpec Empty = new();

    public const string SpecialTokens = "special", NoTokens = "none";
    public static readonly IReadOnlyList<string> TokenChoices = [SpecialTokens, NoTokens];

    private static readonly string[] Keys = ["rank", "alpha", "targets", "tokens"];

    /// <summary>
    /// Parses <c>rank=8,alpha=16,targets=qkv,proj</c>: comma-separated key=value pairs, where a word
    /// without '=' after <c>targets=</c> is one more target. Empty text is an empty spec. Errors are
    /// <see cref="LoraException"/>s naming the piece at fault.
    /// </summary>
    public static LoraSpec Parse(string text)
    {
        if (text.Trim().Length == 0) return Empty;
        int? rank = null;
        double? alpha = null;
        List<string>? targets = null;
        string? tokens = null, lastKey = null;
        foreach (var raw in text.Split(','))
        {
            var item = raw.Trim();
            if (item.Length == 0) throw new LoraException("an empty item between commas");
            int eq = item.IndexOf('=');
            if (eq < 0)
            {
                if (lastKey != "targets") throw new LoraException($"'{item}' is not key=value (keys: {string.Join(", ", Keys)})");
                Add(targets!, item);
                continue;
            }
            var (key, value) = (item[..eq].Trim(), item[(eq + 1)..].Trim());
            if (!Keys.Contains(key)) throw new LoraException($"unknown key '{key}'{Dsl.Suggest.Hint(key, Keys)} (keys: {string.Join(", ", Keys)})");
            if (key == lastKey || (key == "rank" && rank is not null) || (key == "alpha" && alpha is not null) || (key == "targets" && targets is not null) || (key == "tokens" && tokens is not null))
                throw new LoraException($"'{key}' is given twice");
            lastKey = key;
            switch (key)
            {
                case "rank":
                    if (!int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int r) || r < 1)
                        throw new LoraException($"rank '{value}': must be a whole number, 1 or more");
                    rank = r;
                    break;
                case "alpha":
                    if (!double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double a) || !double.IsFinite(a) || a <= 0)
                        throw new LoraException($"alpha '{value}': must be a finite number greater than 0");
                    alpha = a;
                    break;
                case "tokens":
                    tokens = CheckTokens(value);
                    break;
                default:
                    targets = [];
                    if (value.Length == 0) throw new LoraException("targets= needs at least one target");
                    Add(targets, value);
                    break;
            }
        }
        return new LoraSpec(rank, alpha, targets, tokens);
    }

    /// <summary>A <c>tokens</c> value: one of <see cref="TokenChoices"/>, else a <see cref="LoraException"/>.</summary>
    public static string CheckTokens(string value) => TokenChoices.Contains(value)
        ? value
        : throw new LoraException($"tokens '{value}'{Dsl.Suggest.Hint(value, TokenChoices)}: must be {SpecialTokens} (train the special tokens' embedding rows) or {NoTokens}");

    private static void Add(List<string> targets, string target)
    {
        LoraTargets.Check(target);
        targets.Add(target);
    }

    /// <summary>
    /// This spec's settings, the gaps filled from <paramref name="fallback"/> (a model file's declaration),
    /// then from the defaults; <c>tokens = special</c> becomes the ids <paramref name="specialTokenIds"/>
    /// (the tokenizer's special tokens, which the graph cannot know).
    /// </summary>
    public LoraConfig Resolve(LoraSpec? fallback = null, IEnumerable<int>? specialTokenIds = null)
    {
        bool special = (Tokens ?? fallback?.Tokens ?? NoTokens) == SpecialTokens;
        var rows = special ? specialTokenIds?.ToArray() ?? throw new LoraException("tokens=special needs the tokenizer, which this run does not have") : [];
        if (special && rows.Length == 0) throw new LoraException("tokens=special: the tokenizer has no special tokens");
        return new(Rank ?? fallback?.Rank ?? LoraConfig.DefaultRank,
            Alpha ?? fallback?.Alpha ?? LoraConfig.DefaultAlpha,
            Targets ?? fallback?.Targets ?? LoraTargets.Default, rows);
    }
}
