namespace Dataflow.Graph.Dsl;

public enum TokenKind : byte
{
    Identifier,
    Keyword,
    Number,
    Symbol,     // punctuation and operators: ( ) [ ] , : = + - * /
    Newline,    // end of a logical line
    Indent,     // the next line is indented deeper than the previous one
    Dedent,     // one closed indentation level
    End,
}

/// <summary>One lexeme. <see cref="Value"/> holds the number for <see cref="TokenKind.Number"/>.</summary>
public sealed record Token(TokenKind Kind, string Text, Loc Loc, double Value = 0)
{
    public bool Is(TokenKind kind, string text) => Kind == kind && Text == text;
    public bool IsSymbol(string text) => Is(TokenKind.Symbol, text);
    public bool IsKeyword(string text) => Is(TokenKind.Keyword, text);

    public override string ToString() => Kind switch
    {
        TokenKind.Newline => "end of line",
        TokenKind.Indent => "indentation",
        TokenKind.Dedent => "end of block",
        TokenKind.End => "end of file",
        _ => $"'{Text}'",
    };
}
