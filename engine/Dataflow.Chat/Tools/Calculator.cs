using System.Globalization;

namespace Dataflow.Chat.Tools;

/// <summary>What the calculator refuses, with the column at fault where there is one.</summary>
public sealed class CalculatorException(string message) : Exception(message);

/// <summary>
/// The calculator tool: a parser, not an interpreter. Its whole grammar is integers and decimals,
/// + − × ÷ (also written - * /), unary signs and parentheses:
/// <code>
/// expr   := term { ('+' | '-') term }
/// term   := factor { ('*' | '/') factor }
/// factor := ('+' | '-') factor | number | '(' expr ')'
/// number := digit+ [ '.' digit+ ]
/// </code>
/// Arithmetic is exact decimal; an input longer than <see cref="MaxLength"/> characters, a number with
/// more than <see cref="MaxDigits"/> digits, nesting deeper than <see cref="MaxDepth"/>, a result larger
/// than <see cref="MaxMagnitude"/> or a division by zero is refused. Nothing is ever executed.
/// </summary>
public static class Calculator
{
    public const int MaxLength = 100;
    public const int MaxDigits = 15;
    public const int MaxDepth = 16;
    public const int MaxDecimals = 10;
    public static readonly decimal MaxMagnitude = 1e18m;

    /// <summary>The value of <paramref name="expression"/>, or a <see cref="CalculatorException"/>.</summary>
    public static decimal Evaluate(string expression)
    {
        if (expression.Length > MaxLength) throw new CalculatorException($"the expression is {expression.Length} characters; at most {MaxLength}");
        var parser = new Parser(expression);
        decimal value = parser.Expression(0);
        parser.SkipSpaces();
        if (!parser.AtEnd) throw parser.Unexpected();
        return value;
    }

    /// <summary>A result as the tool's output reads: 408, -3, 0.3333333333 (at most <see cref="MaxDecimals"/> decimals, no trailing zeros).</summary>
    public static string Format(decimal value)
    {
        decimal rounded = Math.Round(value, MaxDecimals, MidpointRounding.AwayFromZero);
        string text = rounded.ToString("0.##########", CultureInfo.InvariantCulture);
        return text == "-0" ? "0" : text;
    }

    /// <summary>The tool's output for a call: the formatted value, or "error: …" (a malformed call never throws).</summary>
    public static string Answer(string expression)
    {
        try { return Format(Evaluate(expression)); }
        catch (CalculatorException e) { return "error: " + e.Message; }
    }

    private sealed class Parser(string text)
    {
        private int _at;

        public bool AtEnd => _at >= text.Length;

        public void SkipSpaces() { while (!AtEnd && text[_at] == ' ') _at++; }

        private char? Peek() { SkipSpaces(); return AtEnd ? null : text[_at]; }

        public CalculatorException Unexpected() => AtEnd
            ? new CalculatorException("the expression ends too soon")
            : new CalculatorException($"unexpected '{text[_at]}' at column {_at + 1}");

        public decimal Expression(int depth)
        {
            decimal value = Term(depth);
            while (Peek() is '+' or '-' or '\u2212')
            {
                bool add = text[_at++] == '+';
                value = Checked(add ? value + Term(depth) : value - Term(depth));
            }
            return value;
        }

        private decimal Term(int depth)
        {
            decimal value = Factor(depth);
            while (Peek() is '*' or '/' or '\u00D7' or '\u00F7')
            {
                bool multiply = text[_at] is '*' or '\u00D7';
                int column = ++_at;
                decimal right = Factor(depth);
                if (!multiply && right == 0) throw new CalculatorException($"division by zero at column {column}");
                if (multiply && Math.Abs(value) > 1 && Math.Abs(right) > MaxMagnitude / Math.Abs(value)) throw TooLarge();
                value = Checked(multiply ? value * right : value / right);
            }
            return value;
        }

        private decimal Factor(int depth)
        {
            if (depth > MaxDepth) throw new CalculatorException($"nesting deeper than {MaxDepth} at column {_at + 1}");
            switch (Peek())
            {
                case '+': _at++; return Factor(depth + 1);
                case '-' or '\u2212': _at++; return -Factor(depth + 1);
                case '(':
                    _at++;
                    decimal inner = Expression(depth + 1);
                    if (Peek() != ')') throw AtEnd ? new CalculatorException("a '(' is never closed") : Unexpected();
                    _at++;
                    return inner;
                case >= '0' and <= '9': return Number();
                default: throw Unexpected();
            }
        }

        private decimal Number()
        {
            int start = _at, digits = 0;
            while (!AtEnd && char.IsAsciiDigit(text[_at])) { _at++; digits++; }
            if (!AtEnd && text[_at] == '.')
            {
                _at++;
                int decimals = 0;
                while (!AtEnd && char.IsAsciiDigit(text[_at])) { _at++; decimals++; }
                if (decimals == 0) throw new CalculatorException($"a digit must follow the '.' at column {_at}");
                digits += decimals;
            }
            if (digits > MaxDigits) throw new CalculatorException($"the number at column {start + 1} has more than {MaxDigits} digits");
            return decimal.Parse(text.AsSpan(start, _at - start), NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture);
        }

        private static decimal Checked(decimal value) => Math.Abs(value) > MaxMagnitude ? throw TooLarge() : value;

        private static CalculatorException TooLarge() => new($"a result is larger than {MaxMagnitude:0} in magnitude");
    }
}
