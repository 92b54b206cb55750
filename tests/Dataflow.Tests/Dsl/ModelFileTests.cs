using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

public class ModelFileTests
{
    [Fact]
    public void Mlp_3b1b_has_13002_parameters_and_sigmoid_outputs()
    {
        var m = LoadModel("mlp-3b1b.dfg");
        Assert.Equal("mlp_3b1b", m.Name);
        Assert.Equal(13_002, ParameterCount(m));
        Assert.Equal("f32[B, 10]", m.Graph.Outputs["logits"].Type.ToString());
        Assert.Equal(["z1.weight", "z1.bias", "z2.weight", "z2.bias", "z3.weight", "z3.bias"], m.Graph.Parameters.Select(p => p.Name));
        Assert.Equal(Shape.Of(784, 16), m.Graph.Parameters[0].Node.Shape);
        Assert.NotNull(m.Graph.Loss);
        Assert.Equal(0, m.Graph.Loss!.Shape.Rank);
        Assert.Same(m.Graph.Loss, m.Graph.Outputs["loss"]);
        Assert.Equal("sgd", m.Training.Optimizer);
        Assert.Equal(3.0, m.Training.OptimizerArgs["lr"]);
        Assert.Equal((10.0, 30.0), (m.Training.TrainArgs["batch"], m.Training.TrainArgs["epochs"]));
        Assert.Equal("mse", m.Graph.Layers.Single(l => l.Kind == "mse").Kind);
    }

    [Fact]
    public void Mlp_layers_have_the_expected_shapes_and_names()
    {
        var m = LoadModel("mlp.dfg");
        Assert.Equal(784 * 512 + 512 + 512 * 256 + 256 + 256 * 10 + 10, ParameterCount(m));
        Assert.Equal(["h1.linear.weight", "h1.linear.bias", "h2.linear.weight", "h2.linear.bias", "logits.weight", "logits.bias"],
            m.Graph.Parameters.Select(p => p.Name));
        var layers = m.Graph.Layers.ToDictionary(l => l.Name);
        Assert.Equal("f32[B, 512]", layers["h1"].Output.ToString());
        Assert.Equal("hidden_layer", layers["h1"].Kind);
        Assert.Equal(784 * 512 + 512, layers["h1"].Parameters);
        Assert.Equal("f32[B, 256]", layers["h2.relu"].Output.ToString());
        Assert.Equal("h2", layers["h2.relu"].Scope);
        Assert.Equal("f32[B, 10]", layers["logits"].Output.ToString());
        Assert.Equal("f32[]", layers["loss"].Output.ToString());
        Assert.Equal("adam", m.Training.Optimizer);
        Assert.Equal("warmup_cosine", m.Training.Schedule);
        Assert.Equal(128, m.Training.TrainArgs["batch"]);
        Assert.Equal(["small"], m.Presets);
    }

    [Fact]
    public void Dropout_is_a_mask_only_when_training()
    {
        var training = LoadModel("mlp.dfg");
        var inference = LoadModel("mlp.dfg", training: false);
        Assert.Equal(2, training.Graph.Nodes.Count(n => n.Op == OpCode.DropoutMask));
        Assert.DoesNotContain(inference.Graph.Nodes, n => n.Op == OpCode.DropoutMask);
        Assert.DoesNotContain(LoadModel("mlp.dfg", preset: "small").Graph.Nodes, n => n.Op == OpCode.DropoutMask);
    }

    [Fact]
    public void Every_model_file_loads_with_every_preset()
    {
        foreach (var path in Directory.GetFiles(ModelsDirectory, "*.dfg"))
        {
            var m = ModelLoader.Load(path, new ModelOptions());
            Assert.NotEmpty(m.Graph.Outputs);
            foreach (var preset in m.Presets)
                Assert.NotNull(ModelLoader.Load(path, new ModelOptions(preset)).Graph);
        }
    }
}
