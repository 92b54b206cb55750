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
    private static readonly QueryDescription Tensors = new QueryDescription().WithAll<TensorOp, SymbolicType, LayerScope>();

    public string Name => nameof(ShapeBindingSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CompileContext), typeof(TensorOp), typeof(SymbolicType), typeof(LayerScope), typeof(ShapeTable), typeof(AttrsTable), typeof(NameTable)],
        writes: [typeof(TensorInfo)]);

    public CommandBuffer Commands { get; } = new();

    public void Run(World world)
    {
        var bindings = world.Resource<CompileContext>().Bindings;
        var shapes = world.Resource<ShapeTable>();
        var attrs = world.Resource<AttrsTable>();
        var names = world.Resource<NameTable>();
        var tensors = new List<(Entity Entity, TensorOp Op, SymbolicType Type, LayerScope Scope)>();
        world.ForEachWithEntity(in Tensors, (Entity entity, ref TensorOp op, ref SymbolicType type, ref LayerScope scope) => tensors.Add((entity, op, type, scope)));
        // In graph order, so the first bad shape reported is the first in the model.
        foreach (var (entity, op, type, scope) in tensors.OrderBy(t => t.Op.Id))
        {
            var shape = shapes[type.Shape];
            long[] dims;
            try
            {
                dims = shape.Evaluate(bindings);
            }
            catch (KeyNotFoundException e)
            {
                throw new CompileException($"tensor {Describe()} of shape {shape}: {e.Message}");
            }
            if (dims.Any(d => d <= 0))
                throw new CompileException($"tensor {Describe()} of shape {shape} has a non-positive dimension [{string.Join(", ", dims)}]");
            if (dims.Length > TensorInfo.MaxRank)
                throw new CompileException($"tensor {Describe()} of shape {shape} has rank {dims.Length}; at most {TensorInfo.MaxRank} is supported");
            Commands.Add(entity, TensorInfo.Of(new TensorDesc(type.DType, dims)));

            // The node's own name where it has one, else its id and the layer it came from: either points into the model.
            string Describe() => attrs[op.Attrs].Name ?? $"%{op.Id} ({names[scope.Name]})";
        }
    }
}
