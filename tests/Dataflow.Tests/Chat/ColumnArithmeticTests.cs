using System.Globalization;
using Dataflow.Chat;
using Dataflow.Chat.Tasks;

namespace Dataflow.Tests.Chat;

/// <summary>The column working the assistant learns for + and −: right digits, true steps, the answer last.</summary>
public class ColumnArithmeticTests
{
    [Theory]
    [InlineData(47, '+', 38, "7+8=15, 4+3+1=8, so 85")]
    [InlineData(12, '+', 34, "2+4=6, 1+3=4, so 46")]
    [InlineData(67, '+', 58, "7+8=15, 6+5+1=12, so 125")]
    [InlineData(478, '+', 385, "8+5=13, 7+8+1=16, 4+3+1=8, so 863")]
    [InlineData(84, '-', 37, "14-7=7, 8-1-3=4, so 47")]
    [InlineData(52, '-', 47, "12-7=5, 5-1-4=0, so 5")]
    [InlineData(100, '-', 1, "10-1=9, 10-1-0=9, 1-1-0=0, so 99")]
    [InlineData(60, '-', 60, "0-0=0, 6-6=0, so 0")]
    public void Works_column_by_column_from_the_last_digit(long a, char op, long b, string expected) =>
        Assert.Equal(expected, ColumnArithmetic.Working(a, op, b));

    [Fact]
    public void Every_step_is_true_and_the_answer_is_the_last_number()
    {
        var random = new Random(3);
        for (int i = 0; i < 2000; i++)
        {
            long a = random.Next(0, 1000), b = random.Next(0, 1000);
            char op = random.Next(2) == 0 ? '+' : '-';
            if (op == '-' && a < b) (a, b) = (b, a);
            string working = ColumnArithmetic.Working(a, op, b);
            long expected = op == '+' ? a + b : a - b;
            Assert.Equal(expected.ToString(CultureInfo.InvariantCulture), ChatReply.LastInteger(working));
            string[] steps = working[..working.LastIndexOf(", so ", StringComparison.Ordinal)].Split(", ");
            Assert.Equal(Math.Max(1, Math.Max(a, b).ToString(CultureInfo.InvariantCulture).Length), steps.Length);
            foreach (string step in steps)
            {
                var (lhs, rhs) = (step[..step.IndexOf('=')], long.Parse(step[(step.IndexOf('=') + 1)..], CultureInfo.InvariantCulture));
                Assert.True(Sum(lhs) == rhs, $"{a} {op} {b}: step '{step}' is false");
            }
        }
    }

    [Theory]
    [InlineData(3, '-', 5)]
    [InlineData(3, '*', 5)]
    [InlineData(-3, '+', 5)]
    public void Refuses_what_it_cannot_work(long a, char op, long b) =>
        Assert.Throws<ArgumentException>(() => ColumnArithmetic.Working(a, op, b));

    /// <summary>A step's left side, "4+3+1" or "14-1-3", evaluated.</summary>
    private static long Sum(string terms)
    {
        long total = 0;
        foreach (System.Text.RegularExpressions.Match m in System.Text.RegularExpressions.Regex.Matches(terms, @"[+-]?\d+"))
            total += long.Parse(m.Value, CultureInfo.InvariantCulture);
        return total;
    }
}
