using Dataflow.Graph.Dsl.Layers;

namespace Dataflow.Conformance.Cases;

/// <summary>
/// Whole models, one training step each: a small MLP (linear → sigmoid, relu or silu → linear → softmax
/// cross-entropy) built with the GraphBuilder. Logits, loss, every parameter gradient and every
/// parameter after the Adam update must agree between backends.
/// </summary>
internal static class ModelCases
{
    private const long Batch = 8, Features = 13, Hidden = 17, Classes = 5;

    // Where the backend runs cross_entropy and its gradient as one kernel each.
    private static readonly Engine.Backends.CrossEntropySpec CrossEntropy = new(Batch, Classes, false, [Engine.Backends.CrossEntropyStage.Output]);

    public static IEnumerable<ConformanceCase> All() =>
    [
        Mlp("mlp-sigmoid", Activations.Sigmoid, new(23, 37) { PatternProbe = CrossEntropy, FusedWithPattern = 14 }),
        Mlp("mlp-relu", Activations.Relu, new(23, 32) { PatternProbe = CrossEntropy, FusedWithPattern = 14 }),
        Mlp("mlp-silu", Activations.Silu, new(23, 38) { PatternProbe = CrossEntropy, FusedWithPattern = 14 }),
    ];

    private static ConformanceCase Mlp(string name, Func<Graph.Ir.GraphBuilder, Graph.Ir.Node, Graph.Ir.Node> activation, KernelCounts? kernels) =>
        new($"model/{name}", ConformanceCase.ModelGroup, c =>
        {
            var b = c.B;
            var x = c.Input("x", [Batch, Features]);
            var targets = c.Indices("targets", [Batch], 0, (int)Classes);
            var w1 = c.Param("w1", [Features, Hidden], -0.5, 0.5);
            var b1 = c.Param("b1", [Hidden], -0.1, 0.1);
            var w2 = c.Param("w2", [Hidden, Classes], -0.5, 0.5);
            var b2 = c.Param("b2", [Classes], -0.1, 0.1);
            // A linear layer with bias, as the DSL's lowers to on rank-2 inputs.
            var h = activation(b, b.Add(Linear.Project(b, x, w1), b1));
            var logits = b.Add(Linear.Project(b, h, w2), b2);
            c.Output(logits, "logits");
            c.Graph.Loss = Losses.CrossEntropy(b, logits, targets, smoothing: 0);
        })
        {
            Train = true,
            Kernels = kernels,
        };
}
