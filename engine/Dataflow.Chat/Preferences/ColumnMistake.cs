using System.Globalization;
using System.Text.RegularExpressions;
using Dataflow.Chat.Tasks;

namespace Dataflow.Chat.Preferences;

/// <summary>
/// A wrong column working (<see cref="ColumnArithmetic"/>) the way a small model gets one wrong: one
/// column's step goes wrong — a single-digit fact off by one, or a carry (borrow) that the step should
/// have added (paid back) forgotten — and the later columns and the answer follow from that mistake,
/// so the rejected reply is consistent with its own working, as the policy's sampled mistakes are.
/// Why not only a different final number after right working: a mistake no model makes, and one a
/// reward model can tell apart only by re-reading every column into the answer (measured at chance);
/// a wrong step is checkable where it is written, from the digits and the carry just before it.
/// </summary>
public static partial class ColumnMistake
{
    /// <summary>The working with one step gone wrong and its consequences, or null when <paramref name="reply"/> is not column working.</summary>
    public static string? Make(string reply, Random random)
    {
        if (Parse(reply) is not { } columns) return null;
        var (digits, op) = columns;
        int column = random.Next(digits.Count);
        // A forgotten carry needs one coming in; the fact slip is always possible.
        bool carryIn = Steps(digits, op, -1, Slip.None).Carries[column] > 0;
        var slip = carryIn && random.Next(2) == 0 ? Slip.ForgottenCarry : random.Next(2) == 0 ? Slip.OneUp : Slip.OneDown;
        var (text, _) = Steps(digits, op, column, slip);
        if (text is null) (text, _) = Steps(digits, op, column, slip == Slip.OneUp ? Slip.OneDown : Slip.OneUp);
        return text == reply ? null : text;
    }

    private enum Slip { None, OneUp, OneDown, ForgottenCarry }

    /// <summary>
    /// The working of the columns' digit pairs with <paramref name="slip"/> at <paramref name="at"/> (−1: none),
    /// and the carry into each column; the text is null where the slip cannot be written (a digit beyond 0–9, a sum below 0).
    /// </summary>
    private static (string? Text, int[] Carries) Steps(IReadOnlyList<(int A, int B)> digits, char op, int at, Slip slip)
    {
        var (steps, carries) = (new List<string>(), new int[digits.Count]);
        long answer = 0, place = 1;
        int carry = 0;
        for (int i = 0; i < digits.Count; i++, place *= 10)
        {
            carries[i] = carry;
            var (da, db) = digits[i];
            int written = i == at && slip == Slip.ForgottenCarry ? 0 : carry;
            int shift = i != at ? 0 : slip == Slip.OneUp ? 1 : slip == Slip.OneDown ? -1 : 0;
            if (op == '+')
            {
                int sum = da + db + written + shift;
                if (sum < 0) return (null, carries);
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"{da}+{db}{(written > 0 ? "+1" : "")}={sum}"));
                bool last = i == digits.Count - 1;
                answer += (last ? sum : sum % 10) * place;
                carry = sum / 10;
            }
            else
            {
                int top = da - written, borrow = top < db ? 1 : 0;
                int digit = top + 10 * borrow - db + shift;
                if (digit is < 0 or > 9) return (null, carries);
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"{(borrow > 0 ? "1" : "")}{da}{(written > 0 ? "-1" : "")}-{db}={digit}"));
                answer += digit * place;
                carry = borrow;
            }
        }
        // A borrow out of the top column has nothing to pay it back: a subtraction that cannot be written.
        if (op == '-' && carry > 0) return (null, carries);
        return (string.Join(", ", steps) + ", so " + answer.ToString(CultureInfo.InvariantCulture), carries);
    }

    /// <summary>The columns' digit pairs (least significant first) and the operation, when the reply is exactly column working.</summary>
    private static (List<(int A, int B)> Digits, char Op)? Parse(string reply)
    {
        var whole = Working().Match(reply);
        if (!whole.Success) return null;
        var steps = whole.Groups["steps"].Value.Split(", ");
        var digits = new List<(int, int)>();
        char? op = null;
        foreach (var step in steps)
        {
            var m = Step().Match(step);
            if (!m.Success) return null;
            char stepOp = m.Groups["plus"].Success ? '+' : '-';
            if (op is { } o && o != stepOp) return null;
            op = stepOp;
            digits.Add((m.Groups["a"].Value[^1] - '0', m.Groups["b"].Value[0] - '0'));
        }
        var parsed = (digits, op!.Value);
        return Steps(digits, op.Value, -1, Slip.None).Text == reply ? parsed : null;    // only working the method itself writes
    }

    [GeneratedRegex(@"^(?<steps>[0-9+\-=, ]+?), so \d+$")]
    private static partial Regex Working();

    [GeneratedRegex(@"^(?:(?<a>\d)(?<plus>\+)(?<b>\d)(?:\+1)?=\d+|1?(?<a>\d)(?:-1)?-(?<b>\d)=\d)$")]
    private static partial Regex Step();
}
