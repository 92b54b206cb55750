using Dataflow.Graph.Dsl;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

public class BlockTests
{
    private const string Model = """
        model m(hidden = 6, layers = 3)
        input x : f32[B, hidden]

        block residual(x):
            x = x + linear(relu(linear(x, hidden)), hidden)
            return x

        """;

    [Fact]
    public void Repeat_makes_n_copies_with_their_own_parameters()
    {
        var m = Load(Model + "h = repeat(layers, residual, x)\noutput h\n");
        var names = m.Graph.Parameters.Select(p => p.Name).ToList();
        Assert.Equal(12, names.Count);
        Assert.Equal(names.Count, names.Distinct().Count());
        Assert.Equal(["residual.0.linear.weight", "residual.0.linear.bias", "residual.0.linear_1.weight", "residual.0.linear_1.bias"], names.Take(4));
        Assert.Contains("residual.2.linear_1.bias", names);
        Assert.Equal(3 * 2 * (6 * 6 + 6), ParameterCount(m));
        var copies = m.Graph.Layers.Where(l => l.Kind == "residual").Select(l => l.Name);
        Assert.Equal(["residual.0", "residual.1", "residual.2"], copies);
        Assert.Equal("f32[B, 6]", m.Graph.Outputs["h"].Type.ToString());
    }

    [Fact]
    public void Repeat_zero_times_is_the_identity_and_override_changes_the_count()
    {
        var none = ModelLoader.LoadSource("m.dfg", Model + "h = repeat(layers, residual, x)\noutput h\n",
            new ModelOptions(Overrides: new Dictionary<string, string> { ["layers"] = "0" }));
        Assert.Empty(none.Graph.Parameters);
        Assert.Same(none.Graph.Inputs["x"], none.Graph.Outputs["h"]);
    }

    [Fact]
    public void Calling_a_block_twice_gives_two_sets_of_parameters()
    {
        var m = Load(Model + "a = residual(x)\nb = residual(a)\nc = residual(residual(b))\n");
        var prefixes = m.Graph.Parameters.Select(p => p.Name.Split('.')[0]).Distinct();
        Assert.Equal(["a", "b", "residual", "c"], prefixes);
        var twice = Load(Model + "a = residual(residual(x))\nb = residual(residual(a))\n");
        Assert.Equal(["residual", "a", "residual_1", "b"], twice.Graph.Parameters.Select(p => p.Name.Split('.')[0]).Distinct());
    }

    [Fact]
    public void Blocks_see_model_parameters_but_not_outer_variables_by_assignment()
    {
        var m = Load("""
            model m(k = 2)
            input x : f32[B, 3]
            block scale(y, factor):
                z = y * factor * k
                return z
            a = scale(x, factor = 5)
            output a
            """);
        Assert.Contains(m.Graph.Nodes, n => n.Attrs.Value == 5);
        Assert.Contains(m.Graph.Nodes, n => n.Attrs.Value == 2);
    }

    [Fact]
    public void Repeat_passes_extra_arguments_to_every_copy()
    {
        var m = Load("""
            model m()
            input x : f32[B, 3]
            input memory : f32[B, 3]
            block mix(h, other):
                return h + linear(other, 3)
            y = repeat(2, mix, x, memory)
            output y
            """);
        Assert.Equal(["mix.0.linear.weight", "mix.0.linear.bias", "mix.1.linear.weight", "mix.1.linear.bias"], m.Graph.Parameters.Select(p => p.Name));
    }

    [Fact]
    public void Block_errors_are_diagnostics()
    {
        Assert.Equal("block 'b' ends without 'return'", Diagnose("model m()\ninput x : f32[B]\nblock b(x):\n    y = x\nz = b(x)\n").Message);
        var unknown = Diagnose(Model + "h = repeat(2, residul, x)\n");
        Assert.Equal("repeat: unknown block 'residul' (did you mean 'residual'?)", unknown.Message);
        Assert.Equal((7, 15), (unknown.Line, unknown.Column));
        Assert.Equal("block residual takes 1 argument(s) (x)", Diagnose(Model + "h = residual(x, x)\n").Message);
    }
}
