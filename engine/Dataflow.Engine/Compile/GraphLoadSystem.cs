using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Loads the graph into the world the way a game engine loads a level: one tensor entity per node
/// that some requested output depends on (dead nodes are never loaded), tagged with its role.
/// </summary>
public sealed class GraphLoadSystem : ISystem
{
    public string Name => nameof(GraphLoadSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(CompileContext)], writes: [typeof(TensorNode), typeof(InputTag), typeof(StateTag), typeof(ParamTag), typeof(OutputTag), typeof(GradOf)]);

    public void Run(World world)
    {
        var context = world.Resource<CompileContext>();
        var live = LiveNodes(context);
        var gradientOf = context.Gradients.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).ToArray());
        var outputNames = context.Outputs.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).ToArray());

        foreach (var node in context.Graph.Nodes)
        {
            if (!live.Contains(node)) continue;
            var entity = world.Create(new TensorNode { Node = node });
            if (node.Op == OpCode.Input && node.Attrs.Persistent) world.Add(entity, new StateTag { Name = node.Attrs.Name! });
            else if (node.Op == OpCode.Input) world.Add(entity, new InputTag { Name = node.Attrs.Name! });
            if (node.Op == OpCode.Parameter) world.Add(entity, new ParamTag { Name = node.Attrs.Name! });
            if (outputNames.TryGetValue(node, out var names)) world.Add(entity, new OutputTag { Names = names });
            if (gradientOf.TryGetValue(node, out var parameters)) world.Add(entity, new GradOf { Parameters = parameters });
        }
    }

    private static HashSet<Node> LiveNodes(CompileContext context) =>
        GraphTraversal.Ancestors(context.Outputs.Values.Concat(context.Gradients.Values)).ToHashSet();
}
