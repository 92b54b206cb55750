using Dataflow.Graph.Dsl;
using Dataflow.Tests.Dsl;

namespace Dataflow.Tests.Reinforcement;

/// <summary>value_head's two poolings against hand sums: the value at position last[b], or the values of positions 0 … last[b] added.</summary>
public sealed class ValueHeadPoolingTests
{
    private static readonly float[] X = [.. Enumerable.Range(0, 2 * 3 * 2).Select(i => MathF.Sin(i * 1.3f) * 2)];   // [B = 2, T = 3, 2]

    private static float[] Rewards(string pool)
    {
        var model = ModelLoader.LoadSource("v.dfg", $"model v()\ninput x : f32[B, T, 2]\nr = value_head(x{pool})\noutput r\n", new ModelOptions(Training: false));
        var evaluator = new FloatReference(new Dictionary<string, long> { ["B"] = 2, ["T"] = 3 }, new Dictionary<string, float[]> { ["x"] = X, ["last"] = [1, 2] });
        evaluator.Parameters["r.weight"] = [2, -1];
        evaluator.Parameters["r.bias"] = [0.5f];
        return evaluator.Run(model.Graph.Outputs["r"]).Data;
    }

    private static double Value(int b, int t) => 2 * X[(b * 3 + t) * 2] - X[(b * 3 + t) * 2 + 1] + 0.5;

    [Fact]
    public void TheDefaultReadsTheLastPosition()
    {
        var r = Rewards("");
        Assert.Equal(Value(0, 1), r[0], 5);
        Assert.Equal(Value(1, 2), r[1], 5);
    }

    [Fact]
    public void SumPoolingAddsThePositionsUpToTheLast()
    {
        var r = Rewards(", pool = sum");
        Assert.Equal(Value(0, 0) + Value(0, 1), r[0], 5);
        Assert.Equal(Value(1, 0) + Value(1, 1) + Value(1, 2), r[1], 5);
    }
}
