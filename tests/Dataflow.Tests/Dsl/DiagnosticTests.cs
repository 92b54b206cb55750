using Dataflow.Graph.Dsl;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

public class DiagnosticTests
{
    private const string Header = "model m(d = 8)\ninput x : f32[B, 4]\ninput y : i32[B]\n";

    [Fact]
    public void Diagnostic_prints_position_source_line_and_caret()
    {
        var d = new Diagnostic("mlp.dfg", 7, 9, "unknown layer or function 'relux'", "    x = relux(linear(x, width))");
        Assert.Equal("mlp.dfg:7:9: error: unknown layer or function 'relux'\n  " +
                     "    x = relux(linear(x, width))\n  " +
                     "        ^", d.ToString());
    }

    [Fact]
    public void Syntax_error_points_at_the_offending_token()
    {
        var d = Diagnose(Header + "h = linear(x 10)\n");
        Assert.Equal(("test.dfg", 4, 14), (d.File, d.Line, d.Column));
        Assert.Equal("expected ')', found '10'", d.Message);
        Assert.Equal("h = linear(x 10)", d.SourceLine);
    }

    [Fact]
    public void Unknown_function_in_the_mlp_model_is_reported_with_a_suggestion()
    {
        var text = File.ReadAllText(ModelPath("mlp.dfg")).Replace("relu(", "relux(");
        var e = Assert.Throws<DfgException>(() => ModelLoader.LoadSource("mlp.dfg", text, new ModelOptions()));
        Assert.StartsWith("mlp.dfg:7:9: error: unknown layer or function 'relux' (did you mean 'relu'?)", e.Message);
        Assert.Equal((7, 9), (e.Diagnostic.Line, e.Diagnostic.Column));
    }

    [Fact]
    public void Unknown_function_far_from_every_name_has_no_suggestion()
    {
        var d = Diagnose(Header + "h = frobnicate(x)\n");
        Assert.Equal((4, 5, "unknown layer or function 'frobnicate'"), (d.Line, d.Column, d.Message));
    }

    [Fact]
    public void Unknown_variable_is_reported_where_it_is_used()
    {
        var d = Diagnose(Header + "h = linear(xx, d)\n");
        Assert.Equal((4, 12), (d.Line, d.Column));
        Assert.Equal("unknown name 'xx' (did you mean 'x'?)", d.Message);
    }

    [Fact]
    public void Shape_mismatch_at_an_operator_points_at_the_operator()
    {
        var d = Diagnose(Header + "h = linear(x, 10) + linear(x, 20)\n");
        Assert.Equal((4, 19), (d.Line, d.Column));
        Assert.Equal("add: shapes [B, 10] and [B, 20] do not broadcast", d.Message);
    }

    [Fact]
    public void Shape_mismatch_inside_a_call_points_at_the_call()
    {
        var d = Diagnose(Header + "input z : f32[B, 5]\nh = matmul(x, z)\n");
        Assert.Equal((5, 5), (d.Line, d.Column));
        Assert.StartsWith("matmul: inner dimensions differ", d.Message);
    }

    [Fact]
    public void Shape_mismatch_inside_a_block_points_into_the_block()
    {
        var d = Diagnose(Header + "block bad(h):\n    return h + linear(h, 3)\nz = bad(x)\n");
        Assert.Equal((5, 14), (d.Line, d.Column));
        Assert.Contains("do not broadcast", d.Message);
    }

    [Fact]
    public void Wrong_argument_type_names_the_argument()
    {
        var d = Diagnose(Header + "h = linear(x, 2.5)\n");
        Assert.Equal((4, 15), (d.Line, d.Column));
        Assert.Equal("linear: 'out' must be a whole number, got 2.5", d.Message);
        var keyword = Diagnose(Header + "h = linear(x, d, bais = false)\n");
        Assert.StartsWith("linear has no argument 'bais' (did you mean 'bias'?)", keyword.Message);
    }

    [Fact]
    public void Set_of_unknown_parameter_lists_the_parameters()
    {
        var options = new ModelOptions(Overrides: new Dictionary<string, string> { ["hiden"] = "64" });
        var e = Assert.Throws<DfgException>(() => ModelLoader.Load(ModelPath("mlp.dfg"), options));
        Assert.Equal("'hiden' is not a parameter of model mlp (parameters: hidden, classes, dropout)", e.Diagnostic.Message);
        Assert.Equal((3, 1), (e.Diagnostic.Line, e.Diagnostic.Column));
    }

    [Fact]
    public void Set_with_a_bad_value_points_at_the_parameter()
    {
        var options = new ModelOptions(Overrides: new Dictionary<string, string> { ["hidden"] = "lots" });
        var e = Assert.Throws<DfgException>(() => ModelLoader.Load(ModelPath("mlp.dfg"), options));
        Assert.Equal("bad value 'lots' for parameter 'hidden' of model mlp: expected a number", e.Diagnostic.Message);
        Assert.Equal((3, 11), (e.Diagnostic.Line, e.Diagnostic.Column));
    }

    [Fact]
    public void Unknown_preset_lists_the_presets()
    {
        var d = Diagnose("model m(d = 1)\npreset big(d = 2)\npreset huge(d = 3)\n", new ModelOptions(Preset: "bigg"));
        Assert.Equal("unknown preset 'bigg' for model m (did you mean 'big'?) (presets: big, huge)", d.Message);
        var none = Diagnose("model m(d = 1)\n", new ModelOptions(Preset: "big"));
        Assert.Equal("unknown preset 'big' for model m (the model has no presets)", none.Message);
    }

    [Fact]
    public void Missing_file_is_a_diagnostic_without_a_position()
    {
        var path = Path.Combine(Path.GetTempPath(), "no-such-model-" + Guid.NewGuid() + ".dfg");
        var e = Assert.Throws<DfgException>(() => ModelLoader.Load(path, new ModelOptions()));
        Assert.Equal((path, 0), (e.Diagnostic.File, e.Diagnostic.Line));
        Assert.Equal($"{path}: error: cannot read the model file: no such file", e.Message);
    }

    [Fact]
    public void Assigning_a_model_parameter_is_an_error()
    {
        var d = Diagnose(Header + "d = 3\n");
        Assert.Equal((4, 1), (d.Line, d.Column));
        Assert.StartsWith("'d' is a parameter of model m", d.Message);
    }

    [Fact]
    public void Unknown_optimizer_and_setting_are_errors()
    {
        var optimizer = Diagnose("model m()\noptimizer adma(lr = 1)\n");
        Assert.Equal((2, 11), (optimizer.Line, optimizer.Column));
        Assert.StartsWith("unknown optimizer 'adma' (did you mean 'adam'?)", optimizer.Message);
        var setting = Diagnose("model m()\nschedule warmup_cosine(warmpu = 10)\n");
        Assert.StartsWith("schedule warmup_cosine has no setting 'warmpu' (did you mean 'warmup'?)", setting.Message);
    }

    [Fact]
    public void Loss_must_be_a_scalar()
    {
        var d = Diagnose(Header + "loss = linear(x, 2)\n");
        Assert.Equal((4, 1), (d.Line, d.Column));
        Assert.Equal("'loss' must be a scalar f32 tensor, got a tensor f32[B, 2]", d.Message);
    }

    [Fact]
    public void Model_line_must_come_first()
    {
        var d = Diagnose("input x : f32[B]\nmodel m()\n");
        Assert.Equal((1, 7), (d.Line, d.Column));
        Assert.StartsWith("a model file starts with 'model", d.Message);
    }
}
