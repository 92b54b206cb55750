using System.Text.RegularExpressions;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Chat;

/// <summary>Reading a generated assistant turn: the text after its last tool output, and the numbers in it.</summary>
public static partial class ChatReply
{
    /// <summary>What the assistant wrote after its last tool output, chat markers removed, trimmed.</summary>
    public static string FinalText(string reply)
    {
        int cut = reply.LastIndexOf(SpecialTokenNames.OutputEnd, StringComparison.Ordinal);
        string text = cut >= 0 ? reply[(cut + SpecialTokenNames.OutputEnd.Length)..] : reply;
        foreach (string marker in SpecialTokenNames.Chat) text = text.Replace(marker, "", StringComparison.Ordinal);
        return text.Trim();
    }

    /// <summary>The last whole number of the final text (a sign kept), or null.</summary>
    public static string? LastInteger(string reply)
    {
        var matches = Integer().Matches(FinalText(reply));
        return matches.Count == 0 ? null : matches[^1].Value;
    }

    /// <summary>A reply (or a streamed piece of one) for people: a calculator call and its output shown as <c>[calc 12*34 = 408]</c>.</summary>
    public static string Readable(string text) => text
        .Replace(SpecialTokenNames.PythonStart, "[calc ", StringComparison.Ordinal)
        .Replace(SpecialTokenNames.PythonEnd, "", StringComparison.Ordinal)
        .Replace(SpecialTokenNames.OutputStart, " = ", StringComparison.Ordinal)
        .Replace(SpecialTokenNames.OutputEnd, "] ", StringComparison.Ordinal);

    [GeneratedRegex(@"-?\d+")]
    private static partial Regex Integer();
}
