using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Binds every symbolic shape to numbers (B=64, T=256): the graph was shape-checked symbolically
/// when it was built, so here only the values of the symbols can be wrong.
/// </summary>
public sealed class ShapeInferenceSystem(CompileContext context) : ISystem
{
    public string Name => nameof(ShapeInferenceSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(TensorNode)], writes: [typeof(TensorInfo)]);

    public void Run(World world)
    {
        foreach (var (node, entity) in context.TensorOf)
        {
            long[] dims;
            try
            {
                dims = node.Shape.Evaluate(context.Bindings);
            }
            catch (KeyNotFoundException e)
            {
                throw new CompileException($"tensor {Describe(node)} of shape {node.Shape}: {e.Message}");
            }
            if (dims.Any(d => d <= 0))
                throw new CompileException($"tensor {Describe(node)} of shape {node.Shape} has a non-positive dimension [{string.Join(", ", dims)}]");
            world.Add(entity, new TensorInfo { Desc = new TensorDesc(node.DType, dims) });
        }
    }

    private static string Describe(Graph.Ir.Node node) => node.Attrs.Name ?? $"%{node.Id} ({node.Scope})";
}

/// <summary>A graph cannot be compiled with the given shapes or backend; the message names the tensor or kernel.</summary>
public sealed class CompileException(string message) : Exception(message);
