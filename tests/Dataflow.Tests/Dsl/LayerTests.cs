using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

public class LayerTests
{
    private const string Header = "model m(d = 8)\ninput x : f32[B, T, 4]\ninput v : f32[B, 4]\ninput idx : i32[B, T]\n";

    private static LoadedModel Lower(string body, bool training = true) => Load(Header + body, training);

    private static string TypeOf(LoadedModel m, string layer) => m.Graph.Layers.Single(l => l.Name == layer).Output.ToString();

    [Fact]
    public void Linear_infers_in_features_and_broadcasts_over_leading_axes()
    {
        var m = Lower("a = linear(x, d)\nb = linear(v, 3, bias = false, std = 0.02)\n");
        Assert.Equal("f32[B, T, 8]", TypeOf(m, "a"));
        Assert.Equal("f32[B, 3]", TypeOf(m, "b"));
        var p = m.Graph.Parameters.ToDictionary(p => p.Name);
        Assert.Equal(["a.weight", "a.bias", "b.weight"], p.Keys);
        Assert.Equal("[4, 8]", p["a.weight"].Node.Shape.ToString());
        Assert.Equal(ParamInit.Xavier, p["a.weight"].Node.Attrs.Init);
        Assert.Equal(ParamInit.Zeros, p["a.bias"].Node.Attrs.Init);
        Assert.Equal(ParamInit.Normal(0.02), p["b.weight"].Node.Attrs.Init);
        Assert.Equal(4 * 8 + 8, m.Graph.Layers.Single(l => l.Name == "a").Parameters);
    }

    [Fact]
    public void Nested_calls_are_named_after_their_kind_and_made_unique()
    {
        var m = Lower("h = relu(linear(linear(v, d), d))\n");
        Assert.Equal(["linear.weight", "linear.bias", "linear_1.weight", "linear_1.bias"], m.Graph.Parameters.Select(p => p.Name));
        Assert.Equal(["linear", "linear_1", "h"], m.Graph.Layers.Select(l => l.Name));
        Assert.Equal("relu", m.Graph.Layers[2].Kind);
    }

    [Fact]
    public void Activations_keep_shape_and_lower_to_primitives()
    {
        foreach (var f in new[] { "relu", "sigmoid", "tanh", "gelu", "exp", "log", "sqrt", "softmax", "log_softmax" })
        {
            var m = Lower($"y = {f}(x)\n");
            Assert.Equal("f32[B, T, 4]", TypeOf(m, "y"));
            Assert.All(m.Graph.Nodes, n => Assert.True(Enum.IsDefined(n.Op)));
        }
        Assert.Contains(Lower("y = relu(x)\n").Graph.Nodes, n => n.Op == OpCode.Max);
        var sigmoid = Lower("y = sigmoid(x)\n").Graph.Nodes.Select(n => n.Op).ToList();
        // ½·(1 + tanh(x/2)): no exp that could overflow into an ∞·0 gradient.
        Assert.Equal([OpCode.Mul, OpCode.Tanh, OpCode.Mul, OpCode.Add], sigmoid.Where(o => o is OpCode.Mul or OpCode.Tanh or OpCode.Add or OpCode.Exp or OpCode.Recip));
        Assert.Contains(Lower("y = gelu(x)\n").Graph.Nodes, n => n.Op == OpCode.Tanh);
    }

    [Fact]
    public void Softmax_subtracts_the_detached_max_and_divides_by_the_sum()
    {
        var m = Lower("y = softmax(x, axis = 1, temperature = 2)\n");
        var ops = m.Graph.Nodes.Select(n => n.Op).ToList();
        Assert.Equal([OpCode.Div, OpCode.ReduceMax, OpCode.Detach, OpCode.Sub, OpCode.Exp, OpCode.ReduceSum, OpCode.Div],
            ops.Where(o => o is not (OpCode.Input or OpCode.Constant)));
        var max = m.Graph.Nodes.Single(n => n.Op == OpCode.ReduceMax);
        Assert.Equal([1], max.Attrs.Axes.ToArray());
        Assert.True(max.Attrs.KeepDims);
    }

    [Fact]
    public void Numbers_are_computed_when_functions_get_numbers()
    {
        var m = Lower("y = x * sqrt(d) / 2 + exp(0)\noutput y\n");
        var constants = m.Graph.Nodes.Where(n => n.Op == OpCode.Constant).Select(n => n.Attrs.Value).ToList();
        Assert.Contains(Math.Sqrt(8), constants);
    }

    [Fact]
    public void Cross_entropy_is_a_scalar_mean_over_symbolic_targets()
    {
        var m = Lower("logits = linear(x, 5)\nloss = cross_entropy(logits, idx, label_smoothing = 0.1)\n");
        Assert.Equal("f32[]", m.Graph.Loss!.Type.ToString());
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.OneHot && n.Attrs.Count == 5);
        // The count B*T is symbolic, so it comes from a DimValue constant.
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.Constant && n.Attrs.Count?.ToString() == "B*T");
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.Constant && Math.Abs(n.Attrs.Value - 0.1 / 5) < 1e-12);
    }

    [Fact]
    public void Cross_entropy_checks_the_targets()
    {
        var d = Diagnose(Header + "logits = linear(x, 5)\nloss = cross_entropy(logits, v)\n");
        Assert.Equal((6, 8), (d.Line, d.Column));
        Assert.Equal("cross_entropy: targets must be i32 class indices, got f32[B, 4]", d.Message);
    }

    [Fact]
    public void Mse_is_the_mean_over_all_elements()
    {
        Assert.Contains("do not broadcast", Diagnose(Header + "loss = mse(x, one_hot(idx, 5))\n").Message);
        var m2 = Lower("loss = mse(v, v * 2)\n");
        Assert.Equal("f32[]", m2.Graph.Loss!.Type.ToString());
        var sum = m2.Graph.Nodes.Single(n => n.Op == OpCode.ReduceSum);
        Assert.Equal([0, 1], sum.Attrs.Axes.ToArray());
    }

    [Fact]
    public void Reductions_reshape_transpose_and_matmul_have_the_right_shapes()
    {
        var m = Lower("""
            s = sum(x)
            mn = mean(x, axis = [0, 2], keepdims = true)
            mx = max(x, axis = 1)
            r = reshape(x, [B, -1])
            r2 = reshape(x, [B * T, 2, 2])
            t = transpose(x)
            p = transpose(x, [2, 0, 1])
            mm = matmul(x, x, transpose_b = true)
            oh = one_hot(idx, d)
            """);
        Assert.Equal("f32[B, T]", TypeOf(m, "s"));
        Assert.Equal("f32[1, T, 1]", TypeOf(m, "mn"));
        Assert.Equal("f32[B, 4]", TypeOf(m, "mx"));
        Assert.Equal("f32[B, 4*T]", TypeOf(m, "r"));
        Assert.Equal("f32[B*T, 2, 2]", TypeOf(m, "r2"));
        Assert.Equal("f32[B, 4, T]", TypeOf(m, "t"));
        Assert.Equal("f32[4, B, T]", TypeOf(m, "p"));
        Assert.Equal("f32[B, T, T]", TypeOf(m, "mm"));
        Assert.Equal("f32[B, T, 8]", TypeOf(m, "oh"));
    }

    [Fact]
    public void Dropout_multiplies_by_a_mask_when_training_only()
    {
        var train = Lower("y = dropout(x, 0.25)\n");
        var mask = train.Graph.Nodes.Single(n => n.Op == OpCode.DropoutMask);
        Assert.Equal((0.25, "[B, T, 4]"), (mask.Attrs.Value, mask.Shape.ToString()));
        var infer = Lower("y = dropout(x, 0.25)\n", training: false);
        Assert.DoesNotContain(infer.Graph.Nodes, n => n.Op is OpCode.DropoutMask or OpCode.Mul);
        Assert.Equal("the drop probability must be in [0, 1), got 1", Diagnose(Header + "y = dropout(x, 1)\n").Message.Split(": ", 2)[1]);
    }

    [Fact]
    public void Layer_nodes_carry_the_layer_scope()
    {
        var m = Lower("a = linear(v, 3)\n");
        Assert.All(m.Graph.Nodes.Where(n => n.Op is OpCode.MatMul or OpCode.Parameter), n => Assert.Equal("a", n.Scope));
    }

    [Fact]
    public void Arithmetic_between_numbers_is_numeric_and_with_tensors_broadcasts()
    {
        var m = Lower("y = v * (d / 4 - 1) + -v\noutput y\n");
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.Constant && n.Attrs.Value == 1);
        Assert.Contains(m.Graph.Nodes, n => n.Op == OpCode.Neg);
        Assert.Equal("f32[B, 4]", m.Graph.Outputs["y"].Type.ToString());
    }

    [Fact]
    public void Inputs_may_use_parameter_expressions_for_dimensions()
    {
        var m = Load("model m(d = 3)\ninput a : f32[B, 4 * d, T + 1]\noutput a\n");
        Assert.Equal("f32[B, 12, T + 1]", m.Graph.Inputs["a"].Type.ToString());
        var d = Diagnose("model m(d = 3)\ninput a : f32[B, dd]\n");
        Assert.Equal((2, 18), (d.Line, d.Column));
        Assert.StartsWith("unknown name 'dd' (did you mean 'd'?)", d.Message);
    }
}
