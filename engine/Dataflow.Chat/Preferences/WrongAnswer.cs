using System.Globalization;
using System.Text.RegularExpressions;

namespace Dataflow.Chat.Preferences;

/// <summary>
/// A plausible wrong answer in place of a task's expected one, the mistakes a small model makes:
/// a number off by one digit, by a forgotten or extra carry (± 10) or by one (a wrong count); a list
/// with two neighbours swapped (mis-sorted, mis-reversed). It edits the task's own reply — the last
/// place the expected answer appears in it — so it follows whatever format the task writes.
/// </summary>
public static partial class WrongAnswer
{
    /// <summary>The reply with its answer replaced by a wrong one, or null when the answer is neither a number nor a list of numbers (or does not appear in the reply).</summary>
    public static string? Corrupt(string reply, string expected, Random random)
    {
        int at = reply.LastIndexOf(expected, StringComparison.Ordinal);
        if (at < 0) return null;
        string? wrong = Integer().IsMatch(expected) ? WrongNumber(expected, random)
            : NumberList().IsMatch(expected) ? WrongList(expected, random)
            : null;
        return wrong is null ? null : string.Concat(reply.AsSpan(0, at), wrong, reply.AsSpan(at + expected.Length));
    }

    private static string? WrongNumber(string expected, Random random)
    {
        long value = long.Parse(expected, CultureInfo.InvariantCulture);
        for (int tries = 0; tries < 16; tries++)
        {
            long wrong = random.Next(3) switch
            {
                0 => OneDigitOff(value, random),
                1 => value + (random.Next(2) == 0 ? 10 : -10),
                _ => value + (random.Next(2) == 0 ? 1 : -1),
            };
            if (wrong != value && wrong >= 0 == value >= 0) return wrong.ToString(CultureInfo.InvariantCulture);
        }
        return null;
    }

    /// <summary>One decimal digit of |value| moved up or down by one (within 0–9, the leading digit never to 0).</summary>
    private static long OneDigitOff(long value, Random random)
    {
        var digits = Math.Abs(value).ToString(CultureInfo.InvariantCulture).ToCharArray();
        int i = random.Next(digits.Length);
        int digit = digits[i] - '0', lowest = i == 0 && digits.Length > 1 ? 1 : 0;
        int moved = digit == 9 ? 8 : digit == lowest ? digit + 1 : digit + (random.Next(2) == 0 ? 1 : -1);
        digits[i] = (char)('0' + moved);
        long result = long.Parse(new string(digits), CultureInfo.InvariantCulture);
        return value < 0 ? -result : result;
    }

    private static string? WrongList(string expected, Random random)
    {
        var items = expected.Split(' ');
        var unequal = Enumerable.Range(0, items.Length - 1).Where(i => items[i] != items[i + 1]).ToList();
        if (unequal.Count == 0) return null;
        int at = unequal[random.Next(unequal.Count)];
        (items[at], items[at + 1]) = (items[at + 1], items[at]);
        return string.Join(' ', items);
    }

    [GeneratedRegex(@"^-?\d+$")]
    private static partial Regex Integer();

    [GeneratedRegex(@"^-?\d+( -?\d+)+$")]
    private static partial Regex NumberList();
}
