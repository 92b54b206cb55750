namespace Dataflow.Graph.Dsl;

/// <summary>
/// Recursive-descent parser for .dfg files (grammar in graph/README.md). Reports the first
/// syntax error as a <see cref="DfgException"/> pointing at the token where it went wrong.
/// </summary>
public sealed class Parser
{
    private readonly SourceText _source;
    private readonly List<Token> _tokens;
    private int _pos;

    private Parser(SourceText source)
    {
        _source = source;
        _tokens = Lexer.Tokenize(source);
    }

    public static ModelFile Parse(SourceText source) => new Parser(source).ParseFile();

    private Token Peek => _tokens[_pos];
    private Token PeekAt(int offset) => _tokens[Math.Min(_pos + offset, _tokens.Count - 1)];
    private Token Next()
    {
        var token = _tokens[_pos];
        if (_pos < _tokens.Count - 1) _pos++;    // the End token is sticky
        return token;
    }

    private ModelFile ParseFile()
    {
        var statements = new List<Stmt>();
        while (Peek.Kind != TokenKind.End)
            statements.Add(ParseStatement(insideBlock: false));
        return new ModelFile(statements);
    }

    private Stmt ParseStatement(bool insideBlock)
    {
        var t = Peek;
        if (t.Kind == TokenKind.Indent) throw _source.Error(t.Loc, "unexpected indentation");
        if (t.Kind == TokenKind.Keyword)
        {
            switch (t.Text)
            {
                case "return" when insideBlock:
                    Next();
                    var value = ParseExpr();
                    EndOfLine();
                    return new ReturnStmt(t.Loc, value);
                case "return":
                    throw _source.Error(t.Loc, "'return' is only allowed inside a block");
                case "true" or "false":
                    break;
                case var _ when insideBlock:
                    throw _source.Error(t.Loc, $"'{t.Text}' is not allowed inside a block (only assignments and return)");
                case "model": return ParseModel();
                case "preset": return ParsePreset();
                case "input": return ParseInput();
                case "output": return ParseOutput();
                case "optimizer" or "schedule": return ParseDefaults(named: true);
                case "train" or "lora": return ParseDefaults(named: false);
                case "block": return ParseBlock();
            }
        }
        if (t.Kind == TokenKind.Identifier && PeekAt(1).IsSymbol("="))
        {
            Next();
            Next();
            var value = ParseExpr();
            EndOfLine();
            return new AssignStmt(t.Loc, t.Text, value);
        }
        if (t.Kind == TokenKind.Identifier)
            throw _source.Error(PeekAt(1).Loc, $"expected '=' after '{t.Text}' (a statement is 'name = expression'), found {PeekAt(1)}");
        throw _source.Error(t.Loc, $"expected a statement, found {t}");
    }

    private ModelStmt ParseModel()
    {
        var keyword = Next();
        var name = ExpectIdentifier("a model name");
        var parameters = Peek.IsSymbol("(") ? ParseArgs(keywordOnly: "model parameters") : [];
        EndOfLine();
        return new ModelStmt(keyword.Loc, name.Text, parameters);
    }

    private PresetStmt ParsePreset()
    {
        var keyword = Next();
        var first = ExpectIdentifier("a preset name");
        // Preset names may contain dashes (gpt2-medium); the lexer sees those as minus signs, so glue
        // together the pieces that touch each other with no space between.
        var name = first.Text;
        var endColumn = first.Loc.Column + first.Text.Length;
        while (Peek.IsSymbol("-") && Peek.Loc.Line == first.Loc.Line && Peek.Loc.Column == endColumn
               && PeekAt(1).Kind is TokenKind.Identifier or TokenKind.Number or TokenKind.Keyword
               && PeekAt(1).Loc.Column == endColumn + 1)
        {
            Next();
            var part = Next();
            name += "-" + part.Text;
            endColumn = part.Loc.Column + part.Text.Length;
        }
        var values = ParseArgs(keywordOnly: "preset values");
        EndOfLine();
        return new PresetStmt(first.Loc, name, values);
    }

    private InputStmt ParseInput()
    {
        Next();
        var name = ExpectIdentifier("an input name");
        ExpectSymbol(":");
        var dtype = ExpectIdentifier("an element type (f32 or i32)");
        ExpectSymbol("[");
        var dims = new List<Expr>();
        if (!Peek.IsSymbol("]"))
        {
            do dims.Add(ParseExpr());
            while (Accept(","));
        }
        ExpectSymbol("]");
        EndOfLine();
        return new InputStmt(name.Loc, name.Text, dtype.Text, dtype.Loc, dims);
    }

    private OutputStmt ParseOutput()
    {
        Next();
        var names = new List<NameExpr>();
        do
        {
            var name = ExpectIdentifier("the name of a value to output");
            names.Add(new NameExpr(name.Loc, name.Text));
        }
        while (Accept(","));
        EndOfLine();
        return new OutputStmt(names[0].Loc, names);
    }

    private DefaultsStmt ParseDefaults(bool named)
    {
        var keyword = Next();
        var name = named ? ExpectIdentifier($"a {keyword.Text} name") : null;
        IReadOnlyList<Arg> args = [];
        if (!named || Peek.IsSymbol("(")) args = ParseArgs(keywordOnly: $"{keyword.Text} settings");
        EndOfLine();
        return new DefaultsStmt(name?.Loc ?? keyword.Loc, keyword.Text, name?.Text ?? "", args);
    }

    private BlockStmt ParseBlock()
    {
        Next();
        var name = ExpectIdentifier("a block name");
        ExpectSymbol("(");
        var parameters = new List<string>();
        if (!Peek.IsSymbol(")"))
        {
            do
            {
                var p = ExpectIdentifier("a parameter name");
                if (parameters.Contains(p.Text)) throw _source.Error(p.Loc, $"parameter '{p.Text}' is named twice");
                parameters.Add(p.Text);
            }
            while (Accept(","));
        }
        ExpectSymbol(")");
        ExpectSymbol(":");
        EndOfLine();
        if (Peek.Kind != TokenKind.Indent)
            throw _source.Error(Peek.Loc, $"expected the indented body of block '{name.Text}'");
        Next();
        var body = new List<Stmt>();
        while (Peek.Kind != TokenKind.Dedent && Peek.Kind != TokenKind.End)
            body.Add(ParseStatement(insideBlock: true));
        if (Peek.Kind == TokenKind.Dedent) Next();
        return new BlockStmt(name.Loc, name.Text, parameters, body);
    }

    // Expressions, lowest precedence first.
    private Expr ParseExpr()
    {
        var left = ParseTerm();
        while (Peek.IsSymbol("+") || Peek.IsSymbol("-"))
        {
            var op = Next();
            left = new BinaryExpr(op.Loc, op.Text[0], left, ParseTerm());
        }
        return left;
    }

    private Expr ParseTerm()
    {
        var left = ParseUnary();
        while (Peek.IsSymbol("*") || Peek.IsSymbol("/"))
        {
            var op = Next();
            left = new BinaryExpr(op.Loc, op.Text[0], left, ParseUnary());
        }
        return left;
    }

    private Expr ParseUnary()
    {
        if (Peek.IsSymbol("-"))
        {
            var op = Next();
            return new NegateExpr(op.Loc, ParseUnary());
        }
        return ParsePrimary();
    }

    private Expr ParsePrimary()
    {
        var t = Peek;
        switch (t.Kind)
        {
            case TokenKind.Number:
                Next();
                return new NumberExpr(t.Loc, t.Value);
            case TokenKind.Keyword when t.Text is "true" or "false":
                Next();
                return new BoolExpr(t.Loc, t.Text == "true");
            case TokenKind.Identifier:
                Next();
                if (Peek.IsSymbol("(")) return new CallExpr(t.Loc, t.Text, ParseArgs(keywordOnly: null));
                return new NameExpr(t.Loc, t.Text);
            case TokenKind.Symbol when t.Text == "(":
                Next();
                var inner = ParseExpr();
                ExpectSymbol(")");
                return inner;
            case TokenKind.Symbol when t.Text == "[":
                Next();
                var items = new List<Expr>();
                if (!Peek.IsSymbol("]"))
                {
                    do items.Add(ParseExpr());
                    while (Accept(",") && !Peek.IsSymbol("]"));
                }
                ExpectSymbol("]");
                return new ListExpr(t.Loc, items);
            default:
                throw _source.Error(t.Loc, $"expected an expression, found {t}");
        }
    }

    /// <summary>
    /// <c>( [arg {, arg}] [,] )</c>. When <paramref name="keywordOnly"/> names what is being listed,
    /// every argument must be <c>name = value</c>.
    /// </summary>
    private List<Arg> ParseArgs(string? keywordOnly)
    {
        ExpectSymbol("(");
        var args = new List<Arg>();
        while (!Peek.IsSymbol(")"))
        {
            var t = Peek;
            if (t.Kind == TokenKind.Identifier && PeekAt(1).IsSymbol("="))
            {
                Next();
                Next();
                if (args.Any(a => a.Name == t.Text)) throw _source.Error(t.Loc, $"'{t.Text}' is given twice");
                args.Add(new Arg(t.Loc, t.Text, ParseExpr()));
            }
            else if (keywordOnly is not null)
            {
                throw _source.Error(t.Loc, $"{keywordOnly} are written 'name = value', found {t}");
            }
            else
            {
                if (args.Any(a => a.Name is not null))
                    throw _source.Error(t.Loc, "a positional argument cannot follow a keyword argument");
                args.Add(new Arg(t.Loc, null, ParseExpr()));
            }
            if (!Accept(",")) break;
        }
        ExpectSymbol(")");
        return args;
    }

    private bool Accept(string symbol)
    {
        if (!Peek.IsSymbol(symbol)) return false;
        Next();
        return true;
    }

    private void ExpectSymbol(string symbol)
    {
        if (!Accept(symbol)) throw _source.Error(Peek.Loc, $"expected '{symbol}', found {Peek}");
    }

    private Token ExpectIdentifier(string what)
    {
        if (Peek.Kind != TokenKind.Identifier)
            throw _source.Error(Peek.Loc, Peek.Kind == TokenKind.Keyword
                ? $"expected {what}, found the keyword '{Peek.Text}'"
                : $"expected {what}, found {Peek}");
        return Next();
    }

    private void EndOfLine()
    {
        if (Peek.Kind == TokenKind.End) return;
        if (Peek.Kind != TokenKind.Newline) throw _source.Error(Peek.Loc, $"expected the end of the line, found {Peek}");
        Next();
    }
}
