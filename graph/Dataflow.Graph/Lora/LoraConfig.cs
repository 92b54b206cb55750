using System.Globalization;

namespace Dataflow.Graph.Lora;

/// <summary>
/// Low-rank adapters as peft adds them: every linear whose role is in <see cref="Targets"/> computes
/// y = xW + (alpha/rank)·(xA)B with A [in, rank] Kaiming-uniform and B [rank, out] zero, so the model
/// starts exactly as the base; the base's parameters are frozen. <see cref="TokenRows"/> are peft's
/// <c>trainable_token_indices</c>: embedding rows trained beside the adapters, as a zero-initialised
/// delta added to those rows only (tokens the base corpus never held, the chat markers, keep their
/// random initial rows in a pre-trained base, and a frozen table can neither read nor write them).
/// </summary>
public sealed record LoraConfig
{
    public LoraConfig(int rank, double alpha, IReadOnlyList<string> targets, IReadOnlyList<int>? tokenRows = null)
    {
        if (rank < 1) throw new LoraException($"rank {rank}: must be a whole number, 1 or more");
        if (!double.IsFinite(alpha) || alpha <= 0) throw new LoraException($"alpha {alpha.ToString(CultureInfo.InvariantCulture)}: must be a finite number greater than 0");
        if (targets.Count == 0) throw new LoraException("no targets: name at least one (targets: " + string.Join(", ", LoraTargets.Roles.Keys) + ")");
        foreach (var t in targets) LoraTargets.Check(t);
        (Rank, Alpha, Targets) = (rank, alpha, targets.Distinct(StringComparer.Ordinal).ToArray());
        TokenRows = (tokenRows ?? []).Distinct().Order().ToArray();
        if (TokenRows.Count > 0 && TokenRows[0] < 0) throw new LoraException($"token row {TokenRows[0]}: token ids are 0 or more");
    }

    public const int DefaultRank = 8;
    public const double DefaultAlpha = 16;

    public int Rank { get; }
    public double Alpha { get; }
    public IReadOnlyList<string> Targets { get; }

    /// <summary>The token ids whose embedding rows train (ascending, distinct); empty: none.</summary>
    public IReadOnlyList<int> TokenRows { get; }

    /// <summary>peft's scaling of the low-rank path.</summary>
    public double Scale => Alpha / Rank;

    public bool Adapts(string? role) => role is not null && Targets.Contains(role, StringComparer.Ordinal);

    /// <summary>The adapter of the linear whose weight is <c>SCOPE.weight</c> is <c>SCOPE.lora_a</c> and <c>SCOPE.lora_b</c>.</summary>
    public const string ASuffix = "lora_a", BSuffix = "lora_b";

    /// <summary>The trained rows of the embedding table <c>SCOPE.weight</c> are <c>SCOPE.token_rows</c> [rows, d], one row per id of <see cref="TokenRows"/>.</summary>
    public const string TokenRowsSuffix = "token_rows";

    /// <summary><c>rank=8,alpha=16,targets=qkv,proj</c>: the flag's own syntax, so a printed config can be pasted back.</summary>
    public bool Equals(LoraConfig? other) =>
        other is not null && Rank == other.Rank && Alpha.Equals(other.Alpha) && Targets.SequenceEqual(other.Targets, StringComparer.Ordinal)
        && TokenRows.SequenceEqual(other.TokenRows);

    public override int GetHashCode() => HashCode.Combine(Rank, Alpha, string.Join(",", Targets), string.Join(",", TokenRows));

    public override string ToString() =>
        string.Create(CultureInfo.InvariantCulture, $"rank={Rank},alpha={Alpha},targets={string.Join(",", Targets)}")
        + (TokenRows.Count == 0 ? "" : string.Create(CultureInfo.InvariantCulture, $",tokens={LoraSpec.SpecialTokens} ({TokenRows.Count} rows)"));

    /// <summary>What a checkpoint's config stores, under <c>lora.</c> keys.</summary>
    public void WriteTo(IDictionary<string, string> config)
    {
        config["lora.rank"] = Rank.ToString(CultureInfo.InvariantCulture);
        config["lora.alpha"] = Alpha.ToString("R", CultureInfo.InvariantCulture);
        config["lora.targets"] = string.Join(",", Targets);
        if (TokenRows.Count > 0) config["lora.token_rows"] = string.Join(",", TokenRows.Select(r => r.ToString(CultureInfo.InvariantCulture)));
    }

    /// <summary>The config a checkpoint stored, or null when it has none; a malformed one is a <see cref="LoraException"/>.</summary>
    public static LoraConfig? ReadFrom(IReadOnlyDictionary<string, string> config)
    {
        if (!config.TryGetValue("lora.rank", out var rank)) return null;
        if (!int.TryParse(rank, NumberStyles.None, CultureInfo.InvariantCulture, out int r)
            || !double.TryParse(config.GetValueOrDefault("lora.alpha"), NumberStyles.Float, CultureInfo.InvariantCulture, out double alpha))
            throw new LoraException($"the stored LoRA config (rank '{rank}', alpha '{config.GetValueOrDefault("lora.alpha")}') is not numeric");
        var rows = new List<int>();
        foreach (var id in (config.GetValueOrDefault("lora.token_rows") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries))
            rows.Add(int.TryParse(id, NumberStyles.None, CultureInfo.InvariantCulture, out int row)
                ? row : throw new LoraException($"the stored LoRA token row '{id}' is not a token id"));
        return new LoraConfig(r, alpha, (config.GetValueOrDefault("lora.targets") ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries), rows);
    }
}
