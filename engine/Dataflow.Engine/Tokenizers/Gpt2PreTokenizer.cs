using System.Text.RegularExpressions;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Splits text into GPT-2's pre-tokens (contractions, words with their leading space, numbers,
/// punctuation runs, whitespace). Merges never cross a pre-token boundary, which is what keeps
/// BPE training and encoding cheap: both work on distinct pre-tokens, not on the whole text.
/// </summary>
public static partial class Gpt2PreTokenizer
{
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Pattern();

    /// <summary>
    /// Calls <paramref name="onPiece"/> for each pre-token of <paramref name="text"/>, in order. The
    /// pieces tile the text exactly (the pattern's last alternatives match any character); a gap
    /// would still be passed on as its own piece, so decoding can never lose text.
    /// </summary>
    public static void Split(ReadOnlySpan<char> text, Action<ReadOnlySpan<char>> onPiece)
    {
        Split(Pattern(), text, onPiece);
    }

    /// <summary>As above with any pre-tokenizer pattern, matched on code points (<see cref="CodePointMatcher"/>).</summary>
    internal static void Split(Regex pattern, ReadOnlySpan<char> text, Action<ReadOnlySpan<char>> onPiece)
    {
        var ranges = new List<(int Start, int Length)>();
        CodePointMatcher.Matches(pattern, text, (start, length) => ranges.Add((start, length)));
        int covered = 0;
        foreach (var (start, length) in ranges)
        {
            if (start > covered) onPiece(text[covered..start]);
            onPiece(text.Slice(start, length));
            covered = start + length;
        }
        if (covered < text.Length) onPiece(text[covered..]);
    }

    /// <summary>The pre-tokens of <paramref name="text"/> as strings (handy for tests and training).</summary>
    public static List<string> Split(string text)
    {
        var pieces = new List<string>();
        Split(text.AsSpan(), piece => pieces.Add(piece.ToString()));
        return pieces;
    }
}
