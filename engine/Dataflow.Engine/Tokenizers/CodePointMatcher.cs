using System.Globalization;
using System.Text.RegularExpressions;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Runs a pre-tokenizer pattern on code points, as OpenAI's tiktoken and Python's regex do, rather
/// than on UTF-16 units as .NET's Regex does: there a character outside the BMP is two surrogates,
/// neither of which is \p{L} or \p{N}, so 𝟘 (U+1D7D8, a digit) reads as punctuation and is split
/// differently. Each such character is replaced by one BMP stand-in of the same general category
/// (what the patterns test: letters by case, marks, numbers, whitespace, anything else), the pattern
/// runs on that, and the matches are mapped back to the original text's offsets.
/// </summary>
internal static class CodePointMatcher
{
    /// <summary>Calls <paramref name="onMatch"/>(start, length) in <paramref name="text"/>'s own offsets for each match, in order.</summary>
    public static void Matches(Regex pattern, ReadOnlySpan<char> text, Action<int, int> onMatch)
    {
        if (text.IndexOfAnyInRange('\uD800', '\uDFFF') < 0)
        {
            foreach (ValueMatch m in pattern.EnumerateMatches(text)) onMatch(m.Index, m.Length);
            return;
        }

        // offsets[i] is where stand-in character i starts in the original; offsets[^1] is its length.
        var standIn = new char[text.Length];
        var offsets = new int[text.Length + 1];
        int n = 0;
        for (int i = 0; i < text.Length; n++)
        {
            offsets[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                standIn[n] = StandIn(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1])));
                i += 2;
            }
            else
            {
                standIn[n] = char.IsSurrogate(text[i]) ? StandIn(UnicodeCategory.OtherSymbol) : text[i];
                i++;
            }
        }
        offsets[n] = text.Length;
        foreach (ValueMatch m in pattern.EnumerateMatches(standIn.AsSpan(0, n)))
            onMatch(offsets[m.Index], offsets[m.Index + m.Length] - offsets[m.Index]);
    }

    /// <summary>
    /// A BMP character of the category, chosen outside ASCII so that no stand-in can complete a
    /// contraction ('s, 'll) or be taken for a space or a line break.
    /// </summary>
    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u00C0',       // À
        UnicodeCategory.LowercaseLetter => '\u00E0',       // à
        UnicodeCategory.TitlecaseLetter => '\u01C5',       // ǅ
        UnicodeCategory.ModifierLetter => '\u02B0',        // ʰ
        UnicodeCategory.OtherLetter => '\u00AA',           // ª
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u0488',
        UnicodeCategory.DecimalDigitNumber => '\u0660',    // ٠
        UnicodeCategory.LetterNumber => '\u2160',          // Ⅰ
        UnicodeCategory.OtherNumber => '\u00B2',           // ²
        _ => '\u00A4',                                     // ¤: not a letter, number, mark or space
    };
}
