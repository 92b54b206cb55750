using System.Globalization;
using System.Text;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// Text from a model file as a diagnostic may print it: control and invisible format characters
/// are written as escapes ('\0', '\x01', '\u200B'), never raw, so that a stray byte cannot hide,
/// ring the terminal or rewrite the line it is reported on.
/// </summary>
public static class Visible
{
    /// <summary><paramref name="text"/> with every control or format character escaped; <paramref name="keepNewlines"/> leaves '\n' alone.</summary>
    public static string Escape(string text, bool keepNewlines = false)
    {
        if (!text.Any(c => NeedsEscape(c, keepNewlines))) return text;
        var sb = new StringBuilder(text.Length + 8);
        foreach (var c in text) sb.Append(NeedsEscape(c, keepNewlines) ? Escape(c) : c.ToString());
        return sb.ToString();
    }

    /// <summary>One character as a diagnostic shows it: itself, or its escape.</summary>
    public static string Escape(char c) => c switch
    {
        '\0' => "\\0",
        '\t' => "\\t",
        '\n' => "\\n",
        '\r' => "\\r",
        _ when c < 0x100 && NeedsEscape(c, false) => $"\\x{(int)c:X2}",
        _ when NeedsEscape(c, false) => $"\\u{(int)c:X4}",
        _ => c.ToString(),
    };

    private static bool NeedsEscape(char c, bool keepNewlines) =>
        (c != '\n' || !keepNewlines) && (char.IsControl(c) || CharUnicodeInfo.GetUnicodeCategory(c) is
            UnicodeCategory.Format or UnicodeCategory.LineSeparator or UnicodeCategory.ParagraphSeparator or UnicodeCategory.Surrogate);
}
