using System.Collections.Immutable;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Ir;

/// <summary>
/// One value of the graph: an op applied to earlier nodes. Nodes are immutable and numbered in
/// creation order, which is a topological order (inputs always have smaller ids).
/// </summary>
public sealed class Node
{
    public int Id { get; }
    public OpCode Op { get; }
    public ImmutableArray<Node> Inputs { get; }
    public OpAttrs Attrs { get; }
    public TensorType Type { get; }

    /// <summary>The layer the node was lowered from (for example <c>decoder.3.attention</c>); empty at top level.</summary>
    public string Scope { get; }

    internal Node(int id, OpCode op, ImmutableArray<Node> inputs, OpAttrs attrs, TensorType type, string scope)
    {
        Id = id;
        Op = op;
        Inputs = inputs;
        Attrs = attrs;
        Type = type;
        Scope = scope;
    }

    public Shape Shape => Type.Shape;
    public DType DType => Type.DType;

    public override string ToString() =>
        $"%{Id} = {OpCatalog.Get(Op).Name}({string.Join(", ", Inputs.Select(i => "%" + i.Id))}) : {Type}" +
        (Attrs.Describe() is { Length: > 0 } a ? " {" + a + "}" : "");
}
