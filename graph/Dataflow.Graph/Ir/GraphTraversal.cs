namespace Dataflow.Graph.Ir;

/// <summary>Walks of the graph that several passes need (autodiff, loading, reference evaluation).</summary>
public static class GraphTraversal
{
    /// <summary>Every node the roots depend on, the roots included, each once (in no particular order; sort by id for a topological one).</summary>
    public static IEnumerable<Node> Ancestors(IEnumerable<Node> roots)
    {
        var stack = new Stack<Node>(roots);
        var seen = new HashSet<Node>(stack);
        while (stack.Count > 0)
        {
            var node = stack.Pop();
            yield return node;
            foreach (var input in node.Inputs)
                if (seen.Add(input)) stack.Push(input);
        }
    }
}
