using System.Text.RegularExpressions;

namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Cuts text at occurrences of special tokens before any other tokenisation, so that
/// "&lt;|endoftext|&gt;" always becomes its one id and is never merged into or split by ordinary text.
/// Where two special tokens start at the same place the longer one wins.
/// </summary>
public sealed class SpecialTokenSplitter
{
    private readonly Regex? _pattern;

    public SpecialTokenSplitter(IEnumerable<string> specialTokens)
    {
        var tokens = specialTokens.Where(t => t.Length > 0).Distinct(StringComparer.Ordinal)
            .OrderByDescending(t => t.Length).ThenBy(t => t, StringComparer.Ordinal).ToList();
        if (tokens.Count > 0)
            _pattern = new Regex(string.Join("|", tokens.Select(Regex.Escape)), RegexOptions.CultureInvariant);
    }

    /// <summary>
    /// Calls <paramref name="onText"/> for each stretch of ordinary text and <paramref name="onSpecial"/>
    /// for each special token, in order. Empty stretches are skipped.
    /// </summary>
    public void Split(string text, Action<string> onText, Action<string> onSpecial)
    {
        if (_pattern is null)
        {
            if (text.Length > 0) onText(text);
            return;
        }
        int covered = 0;
        for (Match m = _pattern.Match(text); m.Success; m = m.NextMatch())
        {
            if (m.Index > covered) onText(text[covered..m.Index]);
            onSpecial(m.Value);
            covered = m.Index + m.Length;
        }
        if (covered < text.Length) onText(text[covered..]);
    }
}
