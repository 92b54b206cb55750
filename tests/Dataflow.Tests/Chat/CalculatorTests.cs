using Dataflow.Chat.Tools;

namespace Dataflow.Tests.Chat;

/// <summary>The calculator tool: exact decimal arithmetic within its grammar, and a refusal (never an exception out of Answer) for everything outside it.</summary>
public class CalculatorTests
{
    [Theory]
    [InlineData("12*34", "408")]
    [InlineData("4821 * 7732", "37275972")]
    [InlineData("1 + 2 * 3", "7")]
    [InlineData("(1 + 2) * 3", "9")]
    [InlineData("10 - 4 - 3", "3")]
    [InlineData("-5 + 2", "-3")]
    [InlineData("--5", "5")]
    [InlineData("2 * -3", "-6")]
    [InlineData("1 / 4", "0.25")]
    [InlineData("1 / 3", "0.3333333333")]
    [InlineData("0.1 + 0.2", "0.3")]
    [InlineData("7 ÷ 2 × 4", "14")]
    [InlineData("((2))", "2")]
    [InlineData("3 − 1", "2")]
    public void Evaluates_its_grammar_exactly(string expression, string expected) =>
        Assert.Equal(expected, Calculator.Answer(expression));

    [Theory]
    [InlineData("import os", "unexpected 'i' at column 1")]
    [InlineData("__import__('os').system('ls')", "unexpected '_'")]
    [InlineData("2 ** 3", "unexpected '*' at column 4")]
    [InlineData("1e5", "unexpected 'e' at column 2")]
    [InlineData("2 ^ 3", "unexpected '^'")]
    [InlineData("1..2", "a digit must follow the '.'")]
    [InlineData("", "ends too soon")]
    [InlineData("1 +", "ends too soon")]
    [InlineData("()", "unexpected ')'")]
    [InlineData("(1 + 2", "never closed")]
    [InlineData("1 + 2)", "unexpected ')' at column 6")]
    [InlineData("5 / 0", "division by zero")]
    [InlineData("5 / (2 - 2)", "division by zero")]
    [InlineData("1234567890123456", "more than 15 digits")]
    [InlineData("999999999999999 * 999999999999999", "larger than")]
    [InlineData("abs(2)", "unexpected 'a'")]
    [InlineData("0x10", "unexpected 'x'")]
    [InlineData("1,000", "unexpected ','")]
    public void Refuses_everything_outside_its_grammar(string expression, string reason)
    {
        var e = Assert.Throws<CalculatorException>(() => Calculator.Evaluate(expression));
        Assert.Contains(reason, e.Message);
        Assert.Equal("error: " + e.Message, Calculator.Answer(expression));
    }

    [Fact]
    public void Limits_length_and_nesting()
    {
        Assert.Contains("at most 100", Calculator.Answer(string.Join("+", Enumerable.Repeat("1", 51))));
        Assert.Contains("nesting deeper", Calculator.Answer(new string('(', 20) + "1" + new string(')', 20)));
        Assert.Contains("nesting deeper", Calculator.Answer(new string('-', 40) + "1"));
        Assert.Equal("2", Calculator.Answer(new string('(', 10) + "2" + new string(')', 10)));
    }
}
