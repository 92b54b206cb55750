using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Binds every symbolic shape to numbers (B=64, T=256): the graph was shape-checked symbolically
/// when it was built, so here only the values of the symbols can be wrong.
/// </summary>
public sealed class ShapeBindingSystem : ISystem, IDeferredChanges
{
    private static readonly QueryDescription Tensors = new QueryDescription().WithAll<TensorNode>();

    public string Name => nameof(ShapeBindingSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(CompileContext), typeof(NodeTable), typeof(TensorNode)], writes: [typeof(TensorInfo)]);

    public CommandBuffer Commands { get; } = new();

    public void Run(World world)
    {
        var bindings = world.Resource<CompileContext>().Bindings;
        var nodes = world.Resource<NodeTable>();
        var tensors = new List<(Entity Entity, Graph.Ir.Node Node)>();
        world.ForEachWithEntity(in Tensors, (Entity entity, ref TensorNode tensor) => tensors.Add((entity, nodes[tensor.Node])));
        // In graph order, so the first bad shape reported is the first in the model.
        foreach (var (entity, node) in tensors.OrderBy(t => t.Node.Id))
        {
            long[] dims;
            try
            {
                dims = node.Shape.Evaluate(bindings);
            }
            catch (KeyNotFoundException e)
            {
                throw new CompileException($"tensor {Describe(node)} of shape {node.Shape}: {e.Message}");
            }
            if (dims.Any(d => d <= 0))
                throw new CompileException($"tensor {Describe(node)} of shape {node.Shape} has a non-positive dimension [{string.Join(", ", dims)}]");
            if (dims.Length > TensorInfo.MaxRank)
                throw new CompileException($"tensor {Describe(node)} of shape {node.Shape} has rank {dims.Length}; at most {TensorInfo.MaxRank} is supported");
            Commands.Add(entity, TensorInfo.Of(new TensorDesc(node.DType, dims)));
        }
    }

    private static string Describe(Graph.Ir.Node node) => node.Attrs.Name ?? $"%{node.Id} ({node.Scope})";
}
