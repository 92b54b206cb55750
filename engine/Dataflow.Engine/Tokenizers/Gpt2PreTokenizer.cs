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
        int covered = 0;
        foreach (ValueMatch m in Pattern().EnumerateMatches(text))
        {
            if (m.Index > covered) onPiece(text[covered..m.Index]);
            onPiece(text.Slice(m.Index, m.Length));
            covered = m.Index + m.Length;
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
