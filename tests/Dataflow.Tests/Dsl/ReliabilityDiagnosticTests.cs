using Dataflow.Graph.Dsl;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

/// <summary>Mistakes a loader must report rather than accept: unused blocks, cut-off files, raw control bytes, self-suggestions.</summary>
public sealed class ReliabilityDiagnosticTests
{
    private const string Header = "model m(d = 8)\ninput x : f32[B, 4]\n";

    [Fact]
    public void ABlockThatIsNeverCalledIsStillChecked()
    {
        var d = Diagnose(Header + "block unused(x):\n    y = nosuchfn(x)\n    return y\ny = linear(x, d)\noutput y\n");
        Assert.Equal((4, 9), (d.Line, d.Column));
        Assert.StartsWith("unknown layer or function 'nosuchfn'", d.Message);
    }

    [Fact]
    public void AnUnusedBlockReadingAnUnknownNameOrWithoutReturnIsAnError()
    {
        Assert.StartsWith("unknown name 'nope'", Diagnose(Header + "block b(x):\n    return x + nope\ny = linear(x, d)\noutput y\n").Message);
        Assert.Equal("block 'b' ends without 'return'", Diagnose(Header + "block b(x):\n    y = relu(x)\nz = linear(x, d)\noutput z\n").Message);
    }

    [Fact]
    public void UnusedBlocksMayUseSymbolsLayersGlobalsAndOtherBlocks()
    {
        var m = Load(Header + "block inner(h):\n    return h\n" +
                     "block b(h):\n    h = mlp(layernorm(h), hidden = 4 * d, act = gelu) + w\n    h = reshape(h, [B, 2, 4])\n    return inner(h)\n" +
                     "w = linear(x, d)\noutput w\n");
        Assert.Single(m.Graph.Outputs);
    }

    [Fact]
    public void AFileCutShortInsideItsFirstBlockNamesWhereTheTextEnds()
    {
        var d = Diagnose(Header + "block decoder(x):\n    x = x + mlp(layernorm(x), hidden = 4 * d");
        Assert.Equal("'(' is never closed", d.Message);   // cut inside a call: the lexer sees it

        d = Diagnose(Header + "block decoder(x):\n    x = x + mlp(layernorm(x), hidden = 4 * d)\n");
        Assert.Equal("block 'decoder' ends without 'return'", d.Message);

        d = Diagnose(Header + "\n\n");
        Assert.Equal((2, 20), (d.Line, d.Column));
        Assert.Equal("the text ends here, at line 2 column 20, and the model has no layers, no 'output' and no 'loss' (is the file cut short?)", d.Message);
    }

    [Fact]
    public void ControlBytesArePrintedEscaped()
    {
        var error = Assert.Throws<DfgException>(() => ModelLoader.LoadSource("test.dfg", Header + "y = x\0\n", new ModelOptions()));
        Assert.Equal("unexpected character '\\0'", error.Diagnostic.Message);
        Assert.Equal("test.dfg:3:6: error: unexpected character '\\0'\n  y = x\\0\n       ^", error.Message);

        var d = Diagnose(Header + "y = \x01x\n");
        Assert.Equal("unexpected character '\\x01'", d.Message);
        Assert.DoesNotContain(d.ToString(), c => char.IsControl(c) && c != '\n');
    }

    [Fact]
    public void TheSuggestionIsNeverTheNameItselfAndADefinitionLaterIsPointedAt()
    {
        var d = Diagnose(Header + "y = linear(h, d)\nh = linear(x, d)\noutput y\n");
        Assert.Equal("unknown name 'h' ('h' is defined later, at line 4; define it before this use)", d.Message);
        Assert.Null(Suggest.Nearest("x", ["x", "y"]));
        Assert.Equal("bias", Suggest.Nearest("bais", ["bais", "bias"]));
    }
}
