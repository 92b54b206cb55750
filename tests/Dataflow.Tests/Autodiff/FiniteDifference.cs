using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;

namespace Dataflow.Tests.Autodiff;

/// <summary>
/// Compares the engine's gradients (autodiff, fusion, memory planning, CPU kernels) with central
/// finite differences of the loss, parameter by parameter. Float32 forward passes limit the
/// agreement to about 1e-3 relative, so the tolerance is 2e-2 of max(1, |gradient|). Frozen
/// parameters (a LoRA base) have no gradient and are skipped.
/// </summary>
internal static class FiniteDifference
{
    public static void Check(
        ComputeGraph graph,
        IReadOnlyDictionary<string, float[]> parameterValues,
        IReadOnlyDictionary<string, Array>? inputs = null,
        IReadOnlyDictionary<string, long>? bindings = null,
        int maxCoordinatesPerParameter = int.MaxValue,
        float step = 1e-2f)
    {
        inputs ??= new Dictionary<string, Array>();
        bindings ??= new Dictionary<string, long>();
        using var session = TestGraphs.SessionWith(graph, parameterValues);
        var training = StepGraph.ForTraining(graph, withGradNorm: false);
        var analytic = session.Run(session.Compile(training.WithGradientOutputs(), bindings), inputs).Results;
        var forward = session.Compile(StepGraph.ForwardOnly(graph), bindings);
        double Loss() => session.Run(forward, inputs).Results[StepGraph.LossOutput][0];

        foreach (var parameter in graph.TrainableParameters)
        {
            var slot = session.Parameters.Get(parameter.Name);
            var data = parameterValues.TryGetValue(parameter.Name, out var given) ? (float[])given.Clone() : session.Parameters.Read(slot.Value, slot.Elements);
            var name = StepGraph.GradientOutput(parameter.Name);
            Assert.True(analytic.ContainsKey(name), $"no gradient for {parameter.Name}");
            var gradient = analytic[name];
            int stride = Math.Max(1, data.Length / Math.Min(data.Length, maxCoordinatesPerParameter));
            for (int i = 0; i < data.Length; i += stride)
            {
                var original = data[i];
                data[i] = original + step; session.Parameters.Write(slot.Value, data); var plus = Loss();
                data[i] = original - step; session.Parameters.Write(slot.Value, data); var minus = Loss();
                data[i] = original; session.Parameters.Write(slot.Value, data);
                double numeric = (plus - minus) / (2 * step);
                double tolerance = 2e-2 * Math.Max(1, Math.Max(Math.Abs(numeric), Math.Abs(gradient[i])));
                Assert.True(Math.Abs(numeric - gradient[i]) <= tolerance,
                    $"d loss / d {parameter.Name}[{i}]: analytic {gradient[i]} vs numeric {numeric}");
            }
        }
    }
}
