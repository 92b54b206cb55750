using Dataflow.Graph.Dsl;

namespace Dataflow.Tests.Dsl;

public class ParserTests
{
    private static ModelFile Parse(string text) => Parser.Parse(new SourceText("t.dfg", text));

    [Fact]
    public void Header_statements_parse_into_their_parts()
    {
        var file = Parse("""
            model gpt(vocab = 50257, d = 768)
            preset gpt2-medium(d = 1024)
            input tokens : i32[B, T]
            optimizer adamw(lr = 0.0006, weight_decay = 0.1)
            schedule constant
            train(batch = 8)
            output tokens
            """);
        var model = Assert.IsType<ModelStmt>(file.Statements[0]);
        Assert.Equal("gpt", model.Name);
        Assert.Equal(["vocab", "d"], model.Parameters.Select(p => p.Name));
        Assert.Equal("gpt2-medium", Assert.IsType<PresetStmt>(file.Statements[1]).Name);
        var input = Assert.IsType<InputStmt>(file.Statements[2]);
        Assert.Equal(("tokens", "i32", 2), (input.Name, input.DType, input.Dims.Count));
        var optimizer = Assert.IsType<DefaultsStmt>(file.Statements[3]);
        Assert.Equal(("optimizer", "adamw", 2), (optimizer.Kind, optimizer.Name, optimizer.Args.Count));
        Assert.Equal(("schedule", "constant"), (((DefaultsStmt)file.Statements[4]).Kind, ((DefaultsStmt)file.Statements[4]).Name));
        Assert.Equal("train", ((DefaultsStmt)file.Statements[5]).Kind);
        Assert.IsType<OutputStmt>(file.Statements[6]);
    }

    [Fact]
    public void Multiplication_binds_tighter_than_addition_and_unary_minus_tightest()
    {
        var assign = Assert.IsType<AssignStmt>(Parse("y = a + -b * c").Statements[0]);
        var sum = Assert.IsType<BinaryExpr>(assign.Value);
        Assert.Equal('+', sum.Op);
        var product = Assert.IsType<BinaryExpr>(sum.Right);
        Assert.Equal('*', product.Op);
        Assert.IsType<NegateExpr>(product.Left);
    }

    [Fact]
    public void Parentheses_and_left_associativity()
    {
        var assign = Assert.IsType<AssignStmt>(Parse("y = (a - b) - c / d / e").Statements[0]);
        var outer = Assert.IsType<BinaryExpr>(assign.Value);
        Assert.Equal('-', outer.Op);
        Assert.Equal('-', Assert.IsType<BinaryExpr>(outer.Left).Op);
        var division = Assert.IsType<BinaryExpr>(outer.Right);
        Assert.Equal('/', division.Op);
        Assert.Equal('/', Assert.IsType<BinaryExpr>(division.Left).Op);
    }

    [Fact]
    public void Calls_take_positional_then_keyword_arguments()
    {
        var call = Assert.IsType<CallExpr>(Assert.IsType<AssignStmt>(Parse("y = mlp(x, 4 * d, act = gelu, bias = true)").Statements[0]).Value);
        Assert.Equal("mlp", call.Callee);
        Assert.Equal([null, null, "act", "bias"], call.Args.Select(a => a.Name));
        Assert.IsType<NameExpr>(call.Args[2].Value);
        Assert.IsType<BoolExpr>(call.Args[3].Value);
    }

    [Fact]
    public void Blocks_hold_their_indented_body()
    {
        var block = Assert.IsType<BlockStmt>(Parse("block b(x, y):\n    z = x + y\n    return z\nw = 1\n").Statements[0]);
        Assert.Equal(["x", "y"], block.Parameters);
        Assert.Equal(2, block.Body.Count);
        Assert.IsType<ReturnStmt>(block.Body[1]);
    }

    [Fact]
    public void Positional_after_keyword_is_an_error()
    {
        var e = Assert.Throws<DfgException>(() => Parse("y = f(a = 1, b)")).Diagnostic;
        Assert.Equal((1, 14), (e.Line, e.Column));
        Assert.Contains("positional argument cannot follow", e.Message);
    }

    [Fact]
    public void Return_outside_a_block_is_an_error()
    {
        var e = Assert.Throws<DfgException>(() => Parse("model m()\nreturn 1\n")).Diagnostic;
        Assert.Equal((2, 1, "'return' is only allowed inside a block"), (e.Line, e.Column, e.Message));
    }
}
