using Dataflow.Graph.Autodiff;
using Dataflow.Graph.Ir;
using static Dataflow.Tests.Dsl.DslTestSupport;

namespace Dataflow.Tests.Dsl;

/// <summary>The lowered models must be trainable: autodiff reaches every parameter with a gradient of its shape.</summary>
public class ModelGradientTests
{
    [Theory]
    [InlineData("mlp-3b1b.dfg", null)]
    [InlineData("mlp.dfg", null)]
    [InlineData("gpt.dfg", null)]
    [InlineData("transformer.dfg", null)]
    public void Every_parameter_gets_a_gradient(string file, string? preset)
    {
        var m = LoadModel(file, preset);
        var builder = new GraphBuilder(m.Graph);
        var parameters = m.Graph.Parameters.Select(p => p.Node).ToList();
        var gradients = Differentiator.Backward(builder, m.Graph.Loss!, parameters);
        Assert.All(parameters, p =>
        {
            Assert.True(gradients.ContainsKey(p), $"{p.Attrs.Name} gets no gradient");
            Assert.Equal(p.Type, gradients[p].Type);
        });
    }
}
