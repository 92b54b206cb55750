using Dataflow.Graph.Dsl;

namespace Dataflow.Tests.Dsl;

public class LexerTests
{
    private static List<Token> Lex(string text) => Lexer.Tokenize(new SourceText("t.dfg", text));

    private static string Kinds(string text) => string.Join(" ", Lex(text).Select(t => t.Kind switch
    {
        TokenKind.Identifier or TokenKind.Keyword or TokenKind.Symbol or TokenKind.Number => t.Text,
        TokenKind.Newline => "NL",
        TokenKind.Indent => "INDENT",
        TokenKind.Dedent => "DEDENT",
        _ => "END",
    }));

    [Fact]
    public void Tokens_carry_kind_text_and_position()
    {
        var tokens = Lex("x = linear(h, 4*d)  # comment\n");
        Assert.Equal("x = linear ( h , 4 * d ) NL END", Kinds("x = linear(h, 4*d)  # comment\n"));
        Assert.Equal(TokenKind.Identifier, tokens[0].Kind);
        Assert.Equal(new Loc(1, 5), tokens[2].Loc);
        Assert.Equal(TokenKind.Number, tokens[6].Kind);
        Assert.Equal(4, tokens[6].Value);
    }

    [Fact]
    public void Numbers_take_fractions_and_exponents()
    {
        var numbers = Lex("a = 0.001 + 1e-5 + 2.5E3 + .5").Where(t => t.Kind == TokenKind.Number).Select(t => t.Value);
        Assert.Equal([0.001, 1e-5, 2500, 0.5], numbers);
    }

    [Fact]
    public void Keywords_are_distinguished_from_identifiers()
    {
        var tokens = Lex("model m(x = 1)\nblock b(y):\n    return y\n");
        Assert.Equal(TokenKind.Keyword, tokens[0].Kind);
        Assert.Equal(TokenKind.Identifier, tokens[1].Kind);
        Assert.Contains(tokens, t => t.IsKeyword("return"));
    }

    [Fact]
    public void Indentation_opens_and_closes_blocks()
    {
        var text = "block b(x):\n    y = x\n\n    # comment at another depth\n  # and another\n    return y\nz = 1\n";
        Assert.Equal("block b ( x ) : NL INDENT y = x NL return y NL DEDENT z = 1 NL END", Kinds(text));
    }

    [Fact]
    public void Open_blocks_are_closed_at_end_of_file()
    {
        Assert.Equal("block b ( x ) : NL INDENT return x NL DEDENT END", Kinds("block b(x):\n    return x"));
    }

    [Fact]
    public void Line_breaks_inside_brackets_do_not_end_the_statement()
    {
        Assert.Equal("y = f ( a , b ) NL END", Kinds("y = f(a,\n        b)\n"));
    }

    [Fact]
    public void Inconsistent_dedent_is_an_error()
    {
        var e = Assert.Throws<DfgException>(() => Lex("block b(x):\n    y = x\n  return y\n"));
        Assert.Equal((3, 3), (e.Diagnostic.Line, e.Diagnostic.Column));
        Assert.Contains("indentation", e.Diagnostic.Message);
    }

    [Fact]
    public void Unexpected_character_and_unclosed_bracket_are_errors()
    {
        var bad = Assert.Throws<DfgException>(() => Lex("x = a $ b")).Diagnostic;
        Assert.Equal((1, 7, "unexpected character '$'"), (bad.Line, bad.Column, bad.Message));
        var open = Assert.Throws<DfgException>(() => Lex("x = f(a,\n b\n")).Diagnostic;
        Assert.Equal((1, 6, "'(' is never closed"), (open.Line, open.Column, open.Message));
    }
}
