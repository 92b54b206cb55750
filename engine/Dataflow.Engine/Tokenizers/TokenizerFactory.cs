using System.Globalization;
using System.Text.Json;

namespace Dataflow.Engine.Tokenizers;

/// <summary>Builds a tokenizer from a spec on the command line or from the JSON a checkpoint carries.</summary>
public static class TokenizerFactory
{
    /// <summary>The inverse of <see cref="ITokenizer.ToJson"/> for every kind.</summary>
    public static ITokenizer FromJson(string json)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(json); }
        catch (JsonException e)
        {
            throw new TokenizerException($"tokenizer JSON:{(e.LineNumber ?? 0) + 1}: not valid JSON: {e.Message}", e);
        }
        using (doc)
        {
            var root = doc.RootElement;
            if (root.ValueKind != JsonValueKind.Object || !root.TryGetProperty("kind", out var kindElement)
                || kindElement.ValueKind != JsonValueKind.String)
                throw new TokenizerException("tokenizer JSON: expected an object with a \"kind\" string");
            string kind = kindElement.GetString()!;
            return kind switch
            {
                "char" => CharTokenizer.FromJson(root),
                "bpe" => BytePairTokenizer.FromJson(root),
                _ when SpecialTokenTokenizer.IsKind(kind) => SpecialTokenTokenizer.FromJson(root),
                _ when kind.StartsWith("tiktoken:", StringComparison.Ordinal) => new TiktokenTokenizer(kind["tiktoken:".Length..]),
                _ => throw new TokenizerException($"tokenizer JSON: unknown kind '{kind}'"),
            };
        }
    }

    /// <summary>
    /// <paramref name="spec"/> is "char" or "bpe:N" (both learned from <paramref name="trainingText"/>),
    /// a pretrained encoding name (cl100k_base, o200k_base, gpt2), or a path to a directory holding
    /// vocab.json and merges.txt, or to one of those two files with the other beside it. Any of them
    /// followed by "+chat" (char+chat, bpe:1000+chat) adds the chat markers of <see cref="SpecialTokenNames.Chat"/>.
    /// </summary>
    public static ITokenizer Create(string spec, string? trainingText)
    {
        const string chat = "+chat";
        if (spec.EndsWith(chat, StringComparison.Ordinal) && spec.Length > chat.Length)
            return new SpecialTokenTokenizer(Create(spec[..^chat.Length], trainingText), SpecialTokenNames.Chat);
        if (spec == "char") return CharTokenizer.FromText(RequireText(spec, trainingText));
        if (spec.StartsWith("bpe:", StringComparison.Ordinal))
        {
            if (!int.TryParse(spec.AsSpan(4), NumberStyles.None, CultureInfo.InvariantCulture, out int vocabSize))
                throw new TokenizerException($"tokenizer spec '{spec}': expected bpe:N with N a vocabulary size, e.g. bpe:1000");
            return BpeTrainer.Train(RequireText(spec, trainingText), vocabSize);
        }
        if (TiktokenTokenizer.Encodings.Contains(spec)) return new TiktokenTokenizer(spec);
        if (Directory.Exists(spec)) return BytePairTokenizer.Load(Path.Combine(spec, "vocab.json"), Path.Combine(spec, "merges.txt"));
        if (File.Exists(spec))
        {
            string directory = Path.GetDirectoryName(Path.GetFullPath(spec))!;
            return Path.GetFileName(spec) switch
            {
                "vocab.json" => BytePairTokenizer.Load(spec, Path.Combine(directory, "merges.txt")),
                "merges.txt" => BytePairTokenizer.Load(Path.Combine(directory, "vocab.json"), spec),
                _ => throw new TokenizerException($"{spec}: expected vocab.json or merges.txt (GPT-2 format), or a directory holding both"),
            };
        }
        throw new TokenizerException(
            $"unknown tokenizer spec '{spec}': expected char, bpe:N, {string.Join(", ", TiktokenTokenizer.Encodings)}, or a directory holding vocab.json and merges.txt");
    }

    private static string RequireText(string spec, string? trainingText) =>
        string.IsNullOrEmpty(trainingText)
            ? throw new TokenizerException($"tokenizer spec '{spec}' is learned from training text, and none was given")
            : trainingText;
}
