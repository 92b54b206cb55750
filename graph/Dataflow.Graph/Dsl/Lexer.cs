using System.Globalization;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// Turns model text into tokens, Python style: indentation opens and closes blocks (Indent/Dedent
/// tokens), a line break ends a statement except inside brackets, and '#' starts a comment.
/// </summary>
public static class Lexer
{
    public static readonly IReadOnlySet<string> Keywords = new HashSet<string>(StringComparer.Ordinal)
    {
        "model", "preset", "input", "output", "optimizer", "schedule", "train", "lora", "block", "return", "true", "false",
    };

    private const string Symbols = "()[],:=+-*/";

    public static List<Token> Tokenize(SourceText source)
    {
        var tokens = new List<Token>();
        var indents = new Stack<int>();
        indents.Push(0);
        var brackets = new Stack<Token>();
        var text = source.Text.Replace("\r\n", "\n");
        var lines = text.Split('\n');
        int lineNo = 0;
        bool lineHasTokens = false;

        foreach (var rawLine in lines)
        {
            lineNo++;
            var line = rawLine.TrimEnd('\r');
            int i = 0;
            if (brackets.Count == 0)
            {
                while (i < line.Length && line[i] == ' ') i++;
                if (i < line.Length && line[i] == '\t')
                    throw source.Error(new Loc(lineNo, i + 1), "indent with spaces, not tabs");
                if (i == line.Length || line[i] == '#') continue;    // blank or comment-only lines do not count
                if (i > indents.Peek())
                {
                    indents.Push(i);
                    tokens.Add(new Token(TokenKind.Indent, "", new Loc(lineNo, i + 1)));
                }
                else if (i < indents.Peek())
                {
                    while (i < indents.Peek())
                    {
                        indents.Pop();
                        tokens.Add(new Token(TokenKind.Dedent, "", new Loc(lineNo, i + 1)));
                    }
                    if (i != indents.Peek())
                        throw source.Error(new Loc(lineNo, i + 1), "this line's indentation does not match any enclosing block");
                }
            }

            while (i < line.Length)
            {
                char c = line[i];
                var loc = new Loc(lineNo, i + 1);
                if (c == ' ' || c == '\t') { i++; continue; }
                if (c == '#') break;
                if (char.IsAsciiLetter(c) || c == '_')
                {
                    int start = i;
                    while (i < line.Length && (char.IsAsciiLetterOrDigit(line[i]) || line[i] == '_')) i++;
                    var word = line[start..i];
                    tokens.Add(new Token(Keywords.Contains(word) ? TokenKind.Keyword : TokenKind.Identifier, word, loc));
                }
                else if (char.IsAsciiDigit(c) || (c == '.' && i + 1 < line.Length && char.IsAsciiDigit(line[i + 1])))
                {
                    tokens.Add(ReadNumber(source, line, ref i, loc));
                }
                else if (Symbols.Contains(c))
                {
                    var token = new Token(TokenKind.Symbol, c.ToString(), loc);
                    if (c is '(' or '[') brackets.Push(token);
                    else if (c is ')' or ']')
                    {
                        var open = c == ')' ? "(" : "[";
                        if (brackets.Count == 0 || brackets.Peek().Text != open)
                            throw source.Error(loc, brackets.Count == 0
                                ? $"'{c}' has no matching '{open}'"
                                : $"'{c}' does not close '{brackets.Peek().Text}' opened at {brackets.Peek().Loc.Line}:{brackets.Peek().Loc.Column}");
                        brackets.Pop();
                    }
                    tokens.Add(token);
                    i++;
                }
                else
                {
                    throw source.Error(loc, $"unexpected character '{Visible.Escape(c)}'");
                }
                lineHasTokens = true;
            }

            if (brackets.Count == 0 && lineHasTokens)
            {
                tokens.Add(new Token(TokenKind.Newline, "", new Loc(lineNo, line.Length + 1)));
                lineHasTokens = false;
            }
        }

        if (brackets.Count > 0)
            throw source.Error(brackets.Peek().Loc, $"'{brackets.Peek().Text}' is never closed");
        var end = new Loc(Math.Max(1, lineNo), 1);
        while (indents.Count > 1)
        {
            indents.Pop();
            tokens.Add(new Token(TokenKind.Dedent, "", end));
        }
        tokens.Add(new Token(TokenKind.End, "", end));
        return tokens;
    }

    private static Token ReadNumber(SourceText source, string line, ref int i, Loc loc)
    {
        int start = i;
        while (i < line.Length && char.IsAsciiDigit(line[i])) i++;
        if (i < line.Length && line[i] == '.') { i++; while (i < line.Length && char.IsAsciiDigit(line[i])) i++; }
        if (i < line.Length && (line[i] == 'e' || line[i] == 'E'))
        {
            int mark = i++;
            if (i < line.Length && (line[i] == '+' || line[i] == '-')) i++;
            if (i < line.Length && char.IsAsciiDigit(line[i])) while (i < line.Length && char.IsAsciiDigit(line[i])) i++;
            else i = mark;   // '2e' followed by something else: the 'e' starts an identifier
        }
        if (i < line.Length && (char.IsAsciiLetter(line[i]) || line[i] == '_'))
            throw source.Error(new Loc(loc.Line, i + 1), $"unexpected '{Visible.Escape(line[i])}' after the number {line[start..i]}");
        var text = line[start..i];
        return new Token(TokenKind.Number, text, loc, double.Parse(text, NumberStyles.Float, CultureInfo.InvariantCulture));
    }
}
