using System.Text.RegularExpressions;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// The pre-tokenizer patterns of OpenAI's encodings (as tiktoken and Microsoft.ML.Tokenizers
/// write them), matched on code points (<see cref="CodePointMatcher"/>) so that characters outside
/// the BMP split as they do in tiktoken: `a 𝟘` is `a`, ` `, `𝟘` (64 220 57352 253 246 in
/// cl100k_base), not `a`, ` 𝟘`.
/// </summary>
internal static partial class TiktokenPreTokenizer
{
    [GeneratedRegex(@"'(?i:[sdmt]|ll|ve|re)|(?>[^\r\n\p{L}\p{N}]?)(?>\p{L}+)|(?>\p{N}{1,3})| ?(?>[^\s\p{L}\p{N}]+)(?>[\r\n]*)|(?>\s+)$|\s*[\r\n]|\s+(?!\S)|\s")]
    private static partial Regex Cl100k();

    [GeneratedRegex(@"[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]*[\p{Ll}\p{Lm}\p{Lo}\p{M}]+(?i:'s|'t|'re|'ve|'m|'ll|'d)?|[^\r\n\p{L}\p{N}]?[\p{Lu}\p{Lt}\p{Lm}\p{Lo}\p{M}]+[\p{Ll}\p{Lm}\p{Lo}\p{M}]*(?i:'s|'t|'re|'ve|'m|'ll|'d)?|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n/]*|\s*[\r\n]+|\s+(?!\S)|\s+")]
    private static partial Regex O200k();

    [GeneratedRegex(@"'(?:[sdmt]|ll|ve|re)| ?(?>\p{L}+)| ?(?>\p{N}+)| ?(?>[^\s\p{L}\p{N}]+)|(?>\s+)$|\s+(?!\S)|\s")]
    private static partial Regex R50k();

    /// <summary>The pattern of an encoding named in <see cref="TiktokenTokenizer.Encodings"/>.</summary>
    public static Regex For(string encoding) => encoding switch
    {
        "cl100k_base" => Cl100k(),
        "o200k_base" => O200k(),
        "gpt2" => R50k(),
        _ => throw new TokenizerException($"no pre-tokenizer for the encoding '{encoding}'"),
    };

    /// <summary>Calls <paramref name="onPiece"/> for each pre-token of <paramref name="text"/>; the pieces tile it.</summary>
    public static void Split(string encoding, ReadOnlySpan<char> text, Action<ReadOnlySpan<char>> onPiece) =>
        Gpt2PreTokenizer.Split(For(encoding), text, onPiece);
}
