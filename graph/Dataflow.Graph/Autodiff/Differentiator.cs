using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;

namespace Dataflow.Graph.Autodiff;

/// <summary>
/// Reverse-mode automatic differentiation as a graph-to-graph transformation: appends to the graph
/// the nodes that compute d(loss)/d(target) for each target, built from the catalog's gradient rules.
/// </summary>
public static class Differentiator
{
    /// <summary>Returns the gradient node of each target (absent when the loss does not depend on it).</summary>
    public static IReadOnlyDictionary<Node, Node> Backward(GraphBuilder builder, Node loss, IEnumerable<Node> targets)
    {
        if (loss.Shape.Rank != 0)
            throw new GraphException($"the loss must be a scalar, got {loss.Type}");

        var needed = NodesOnPathsToLoss(loss, targets.ToHashSet());
        var gradients = new Dictionary<Node, Node> { [loss] = builder.Scalar(1) };

        using var scope = builder.Scope("backward");
        foreach (var node in builder.Graph.Nodes.Take(loss.Id + 1).Reverse())
        {
            if (!gradients.TryGetValue(node, out var gradient) || !node.Inputs.Any(needed.Contains)) continue;
            var rule = OpCatalog.Get(node.Op).Gradient;
            if (rule is null) continue;
            var inputGradients = rule(builder, node, gradient);
            for (int i = 0; i < node.Inputs.Length; i++)
            {
                var input = node.Inputs[i];
                var g = inputGradients[i];
                if (g is null || !needed.Contains(input)) continue;
                gradients[input] = gradients.TryGetValue(input, out var existing) ? builder.Add(existing, g) : g;
            }
        }

        var result = new Dictionary<Node, Node>();
        foreach (var target in targets)
            if (gradients.TryGetValue(target, out var g)) result[target] = g;
        return result;
    }

    /// <summary>Nodes that depend on some target and feed the loss: only these need gradients.</summary>
    private static HashSet<Node> NodesOnPathsToLoss(Node loss, HashSet<Node> targets)
    {
        var dependsOnTarget = new HashSet<Node>();
        foreach (var node in GraphTraversal.Ancestors([loss]).OrderBy(n => n.Id))
            if (targets.Contains(node) || node.Inputs.Any(dependsOnTarget.Contains))
                dependsOnTarget.Add(node);
        return dependsOnTarget;
    }
}
