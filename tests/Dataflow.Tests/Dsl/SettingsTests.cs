using Dataflow.Graph.Dsl;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

public class SettingsTests
{
    private const string Model = """
        model m(width = 8, depth = 2, inner = 4 * width)
        preset wide(width = 32)
        preset deep(depth = 6, inner = 100)
        input x : f32[B, width]
        h = linear(x, inner)
        """;

    private static LoadedModel Load(string? preset = null, Dictionary<string, string>? set = null) =>
        ModelLoader.LoadSource("m.dfg", Model, new ModelOptions(preset, set));

    [Fact]
    public void Defaults_apply_and_may_use_earlier_parameters()
    {
        var m = Load();
        Assert.Equal(new Dictionary<string, double> { ["width"] = 8, ["depth"] = 2, ["inner"] = 32 }, m.Settings);
        Assert.Same(m.Settings, m.Graph.Settings);
        Assert.Equal(["wide", "deep"], m.Presets);
    }

    [Fact]
    public void Preset_overrides_defaults_and_derived_defaults_follow()
    {
        var wide = Load("wide");
        Assert.Equal(32, wide.Settings["width"]);
        Assert.Equal(128, wide.Settings["inner"]);
        Assert.Equal("f32[B, 128]", wide.Graph.Layers.Single(l => l.Name == "h").Output.ToString());
        Assert.Equal(100, Load("deep").Settings["inner"]);
    }

    [Fact]
    public void Set_overrides_the_preset()
    {
        var m = Load("deep", new() { ["inner"] = "7", ["depth"] = "1e1" });
        Assert.Equal(7, m.Settings["inner"]);
        Assert.Equal(10, m.Settings["depth"]);
        Assert.Equal(8 * 7 + 7, ParameterCount(m));
    }

    [Fact]
    public void Training_defaults_are_read_with_parameters_in_scope()
    {
        var m = ModelLoader.LoadSource("t.dfg", """
            model m(base_lr = 0.5)
            optimizer sgd(lr = base_lr / 10, momentum = 0.9)
            schedule warmup_cosine(warmup = 100, min_lr = 0)
            train(batch = 16, epochs = 3, anything = 1)
            input x : f32[B, 2]
            output x
            """, new ModelOptions());
        Assert.Equal("sgd", m.Training.Optimizer);
        Assert.Equal(0.05, m.Training.OptimizerArgs["lr"], 12);
        Assert.Equal(0.9, m.Training.OptimizerArgs["momentum"]);
        Assert.Equal("warmup_cosine", m.Training.Schedule);
        Assert.Equal(100, m.Training.ScheduleArgs["warmup"]);
        Assert.Equal(new Dictionary<string, double> { ["batch"] = 16, ["epochs"] = 3, ["anything"] = 1 }, m.Training.TrainArgs);
    }

    [Fact]
    public void Missing_training_lines_give_plain_defaults()
    {
        var m = ModelLoader.LoadSource("t.dfg", "model m()\ninput x : f32[B, 2]\noutput x\n", new ModelOptions());
        Assert.Equal(("adam", "constant"), (m.Training.Optimizer, m.Training.Schedule));
        Assert.Empty(m.Training.TrainArgs);
    }

    [Fact]
    public void Preset_naming_an_unknown_parameter_is_an_error()
    {
        var d = DslTestSupport.Diagnose("model m(a = 1)\npreset p(b = 2)\n");
        Assert.Equal((2, 10), (d.Line, d.Column));
        Assert.Equal("'b' is not a parameter of model m (parameters: a)", d.Message);
    }
}
