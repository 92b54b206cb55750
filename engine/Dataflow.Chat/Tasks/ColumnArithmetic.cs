using System.Globalization;
using System.Text;

namespace Dataflow.Chat.Tasks;

/// <summary>
/// The column-by-column working the assistant writes for addition and subtraction, least-significant
/// digit first, then the answer: <c>7+8=15, 4+3+1=8, so 85</c> for 47 + 38, and
/// <c>14-7=7, 8-1-3=4, so 47</c> for 84 − 37 (a borrowed ten is written as the leading 1, and paid back
/// as the −1 of the next column). Why: a small transformer cannot add two numbers in one token, but
/// every step here is a single-digit fact plus a carry it can read off the step before, so it learns
/// the method instead of memorising sums, and the same method stretches to 3 digits. The answer comes
/// last, so <see cref="ChatReply.LastInteger"/> reads it.
/// </summary>
public static class ColumnArithmetic
{
    /// <summary>The working and answer for <paramref name="a"/> <paramref name="op"/> <paramref name="b"/>; '+' or '−' of non-negative numbers, a ≥ b for '−'.</summary>
    public static string Working(long a, char op, long b)
    {
        if (a < 0 || b < 0 || op is not ('+' or '-') || (op == '-' && a < b))
            throw new ArgumentException($"column working is for a + b or a - b with 0 <= b <= a, not {a} {op} {b}");
        var steps = new List<string>();
        int carry = 0;
        for (long x = a, y = b; x > 0 || y > 0 || steps.Count == 0; x /= 10, y /= 10)
        {
            int da = (int)(x % 10), db = (int)(y % 10);
            if (op == '+')
            {
                int sum = da + db + carry;
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"{da}+{db}{(carry > 0 ? "+1" : "")}={sum}"));
                carry = sum / 10;
            }
            else
            {
                int top = da - carry, borrow = top < db ? 1 : 0;
                int digit = top + 10 * borrow - db;
                steps.Add(string.Create(CultureInfo.InvariantCulture, $"{(borrow > 0 ? "1" : "")}{da}{(carry > 0 ? "-1" : "")}-{db}={digit}"));
                carry = borrow;
            }
        }
        long result = op == '+' ? a + b : a - b;
        return new StringBuilder().AppendJoin(", ", steps).Append(", so ").Append(result.ToString(CultureInfo.InvariantCulture)).ToString();
    }
}
