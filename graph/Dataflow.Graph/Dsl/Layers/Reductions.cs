using Dataflow.Graph.Ir;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary><c>sum</c>, <c>mean</c>, <c>max</c> over one axis or a list of axes (default the last).</summary>
public static class Reductions
{
    public static IEnumerable<LayerDef> All =>
    [
        Reduce("sum", (b, x, axes, keep) => b.ReduceSum(x, axes, keep)),
        Reduce("mean", (b, x, axes, keep) => b.ReduceMean(x, axes, keep)),
        Reduce("max", (b, x, axes, keep) => b.ReduceMax(x, axes, keep)),
    ];

    private static LayerDef Reduce(string name, Func<GraphBuilder, Node, int[], bool, Node> reduce) =>
        new(name, ["x", "axis?", "keepdims?"], (a, c) =>
            new TensorValue(reduce(c.Builder, a.Tensor("x"), a.Axes("axis"), a.Bool("keepdims", false))));
}
