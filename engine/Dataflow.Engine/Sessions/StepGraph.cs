using Dataflow.Graph.Autodiff;
using Dataflow.Graph.Ir;

namespace Dataflow.Engine.Sessions;

/// <summary>
/// Turns a model graph into what a step computes: its outputs, the loss, and (for training) the
/// gradient of the loss with respect to every parameter, appended to the same graph by autodiff.
/// </summary>
public sealed class StepGraph
{
    /// <summary>Output name of Σ‖g‖² over all gradients, added when gradient clipping needs the global norm.</summary>
    public const string GradNormSquared = "grad_norm_sq";

    public const string LossOutput = "loss";

    private StepGraph(ComputeGraph graph, IReadOnlyDictionary<string, Node> outputs, IReadOnlyDictionary<string, Node> gradients)
    {
        Graph = graph;
        Outputs = outputs;
        Gradients = gradients;
    }

    public ComputeGraph Graph { get; }
    public IReadOnlyDictionary<string, Node> Outputs { get; }
    public IReadOnlyDictionary<string, Node> Gradients { get; }

    /// <summary>The same graph with every gradient also fetchable, as <c>grad:NAME</c> (for gradient checks and conformance).</summary>
    public StepGraph WithGradientOutputs()
    {
        var outputs = new Dictionary<string, Node>(Outputs);
        foreach (var (name, gradient) in Gradients) outputs[GradientOutput(name)] = gradient;
        return new StepGraph(Graph, outputs, Gradients);
    }

    public static string GradientOutput(string parameter) => "grad:" + parameter;

    /// <summary>Forward only: the declared outputs and the loss (when it has one and its inputs are fed).</summary>
    public static StepGraph ForwardOnly(ComputeGraph graph, bool includeLoss = true)
    {
        var outputs = new Dictionary<string, Node>(graph.Outputs);
        if (includeLoss && graph.Loss is not null) outputs[LossOutput] = graph.Loss;
        // The loader also lists the loss among the outputs; without it the targets need no feeding.
        if (!includeLoss) foreach (var (name, node) in graph.Outputs) if (node == graph.Loss) outputs.Remove(name);
        return new StepGraph(graph, outputs, new Dictionary<string, Node>());
    }

    /// <summary>
    /// Forward and backward; <paramref name="withGradNorm"/> adds the global gradient norm for clipping.
    /// Only trainable parameters get gradients: a frozen one's is never built, so never computed.
    /// </summary>
    public static StepGraph ForTraining(ComputeGraph graph, bool withGradNorm)
    {
        var loss = graph.Loss ?? throw new GraphException($"model {graph.Name} declares no loss, so it cannot be trained");
        var builder = new GraphBuilder(graph);
        var parameters = graph.TrainableParameters.Select(p => p.Node).ToList();
        var byNode = Differentiator.Backward(builder, loss, parameters);
        var gradients = graph.TrainableParameters
            .Where(p => byNode.ContainsKey(p.Node))
            .ToDictionary(p => p.Name, p => byNode[p.Node], StringComparer.Ordinal);

        var outputs = new Dictionary<string, Node>(graph.Outputs) { [LossOutput] = loss };
        if (withGradNorm && gradients.Count > 0)
        {
            using var scope = builder.Scope("grad_norm");
            Node? total = null;
            foreach (var g in gradients.Values)
            {
                var squares = builder.ReduceSum(builder.Mul(g, g), Enumerable.Range(0, g.Shape.Rank));
                total = total is null ? squares : builder.Add(total, squares);
            }
            outputs[GradNormSquared] = total!;
        }
        return new StepGraph(graph, outputs, gradients);
    }
}
