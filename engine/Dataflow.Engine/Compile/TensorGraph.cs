using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ir;

namespace Dataflow.Engine.Compile;

/// <summary>
/// The loaded tensors as fusion and its patterns walk them, read from the world: which node each
/// tensor entity is (<see cref="TensorNode"/>), what it reads (<see cref="Operands"/>) and what reads
/// it (<see cref="Readers"/>). Edges come from those components, never from <see cref="Node.Inputs"/>,
/// so a node that was not loaded is never reached and a system that rewires the world is seen.
/// Built by a system at the start of its run (one query), not kept between systems.
/// </summary>
internal sealed class TensorGraph
{
    private static readonly QueryDescription Tensors = new QueryDescription().WithAll<TensorNode, Operands, Readers>();

    private readonly Dictionary<Node, Entity> _entityOf = [];
    private readonly Dictionary<Node, Node[]> _operands = [];
    private readonly Dictionary<Node, Node[]> _readers = [];

    private TensorGraph() { }

    /// <summary>The loaded nodes in graph order.</summary>
    public IReadOnlyList<Node> Nodes { get; private set; } = [];

    /// <summary>Needs <see cref="NodeTable"/>, <see cref="EdgeList"/>, <see cref="TensorNode"/>, <see cref="Operands"/> and <see cref="Readers"/> declared as read.</summary>
    public static TensorGraph Read(World world)
    {
        var nodes = world.Resource<NodeTable>();
        var lists = world.Resource<EdgeList>();
        var graph = new TensorGraph();
        var edges = new List<(Node Node, ListRange Operands, ListRange Readers)>();
        world.ForEachWithEntity(in Tensors, (Entity entity, ref TensorNode tensor, ref Operands operands, ref Readers readers) =>
        {
            var node = nodes[tensor.Node];
            graph._entityOf[node] = entity;
            edges.Add((node, operands.Tensors, readers.Tensors));
        });
        var nodeOf = graph._entityOf.ToDictionary(e => e.Value, e => e.Key);
        foreach (var (node, operands, readers) in edges)
        {
            graph._operands[node] = Resolve(lists[operands], nodeOf);
            graph._readers[node] = Resolve(lists[readers], nodeOf);
        }
        graph.Nodes = [.. edges.Select(e => e.Node).OrderBy(n => n.Id)];
        return graph;
    }

    private static Node[] Resolve(ReadOnlySpan<Entity> tensors, Dictionary<Entity, Node> nodeOf)
    {
        var result = new Node[tensors.Length];
        for (int i = 0; i < tensors.Length; i++) result[i] = nodeOf[tensors[i]];
        return result;
    }

    public bool Contains(Node node) => _entityOf.ContainsKey(node);

    /// <summary>The tensor entity of a loaded node.</summary>
    public Entity this[Node node] => _entityOf[node];

    /// <summary>What <paramref name="node"/> reads, in operand order.</summary>
    public IReadOnlyList<Node> Operands(Node node) => _operands[node];

    /// <summary>The loaded nodes that read <paramref name="node"/>, each once, in graph order.</summary>
    public IReadOnlyList<Node> Readers(Node node) => _readers[node];
}
