using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl.Layers;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Autodiff;

/// <summary>
/// Every activation composed from primitives must give a finite value and a finite, correct
/// gradient for any finite input: at |x| up to 1e4, around float's exp overflow (±88.7) and where
/// tanh saturates. The composed sigmoid 1/(1 + e^−x) failed here (its gradient is ∞·0 below −88).
/// </summary>
public sealed class ActivationStabilityTests
{
    private static readonly float[] Extremes =
        [-1e4f, -1e3f, -100f, -89f, -88f, -20f, -3f, -0.5f, 0f, 0.5f, 3f, 20f, 88f, 89f, 100f, 1e3f, 1e4f];

    public static TheoryData<string> Names => new() { "sigmoid", "gelu", "tanh" };

    private static ComputeGraph Graph(string name)
    {
        var graph = new ComputeGraph(name);
        var b = new GraphBuilder(graph);
        var x = b.Parameter("x", Shape.Of(Extremes.Length), ParamInit.Zeros);
        var y = Activations.Apply(name, b, x);
        graph.SetOutput("y", y);
        // Σ y·w with distinct weights, so each coordinate's gradient is checked separately.
        var weights = b.Input("w", TensorType.F32(Extremes.Length));
        graph.Loss = b.ReduceSum(b.Mul(y, weights), [0]);
        return graph;
    }

    private static Dictionary<string, Array> Weights() => new() { ["w"] = TestGraphs.RandomValues(3, Extremes.Length, 0.5, 1.5) };

    [Theory]
    [MemberData(nameof(Names))]
    public void ForwardAndGradientAreFiniteAndMatchDoublePrecision(string name)
    {
        var graph = Graph(name);
        var weights = (float[])Weights()["w"];
        using var session = TestGraphs.SessionWith(graph, new Dictionary<string, float[]> { ["x"] = Extremes });
        var training = StepGraph.ForTraining(graph, withGradNorm: false).WithGradientOutputs();
        var results = session.Run(session.Compile(training, new Dictionary<string, long>()), Weights()).Results;
        var y = results["y"];
        var gradient = results[StepGraph.GradientOutput("x")];
        for (int i = 0; i < Extremes.Length; i++)
        {
            double x = Extremes[i];
            var (value, slope) = Reference(name, x);
            Assert.True(float.IsFinite(y[i]) && float.IsFinite(gradient[i]), $"{name}({x}) = {y[i]}, gradient {gradient[i]}");
            Assert.True(Math.Abs(y[i] - value) <= 1e-5 * Math.Max(1, Math.Abs(value)), $"{name}({x}) = {y[i]}, expected {value}");
            Assert.True(Math.Abs(gradient[i] - weights[i] * slope) <= 1e-5 * Math.Max(1, Math.Abs(weights[i] * slope)),
                $"{name}'({x}) = {gradient[i] / weights[i]}, expected {slope}");
        }
    }

    [Theory]
    [MemberData(nameof(Names))]
    public void GradientMatchesFiniteDifferencesAtExtremes(string name) =>
        FiniteDifference.Check(Graph(name), new Dictionary<string, float[]> { ["x"] = Extremes }, Weights());

    /// <summary>The function and its derivative in double precision, written independently of the lowering.</summary>
    private static (double Value, double Slope) Reference(string name, double x)
    {
        switch (name)
        {
            case "sigmoid":
                var s = x >= 0 ? 1 / (1 + Math.Exp(-x)) : Math.Exp(x) / (1 + Math.Exp(x));
                return (s, s * (1 - s));
            case "tanh":
                var t = Math.Tanh(x);
                return (t, 1 - t * t);
            default:
                const double k = 0.7978845608028654;
                var u = k * (x + 0.044715 * x * x * x);
                var th = Math.Tanh(u);
                return (0.5 * x * (1 + th), 0.5 * (1 + th) + 0.5 * x * (1 - th * th) * k * (1 + 3 * 0.044715 * x * x));
        }
    }
}
