using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Loads the graph into the world the way a game engine loads a level: one tensor entity per node
/// that some requested output depends on (dead nodes are never loaded), tagged with its role.
/// Each tensor's op facts become a <see cref="TensorOp"/>, its declared type a <see cref="SymbolicType"/> and
/// its layer a <see cref="LayerScope"/>, so the systems after it read components, not nodes (no system
/// keeps a node: a node's id, <see cref="TensorOp.Id"/>, is what maps the graph to the world). It makes
/// the tables the tensors' components index (<see cref="ShapeTable"/>, <see cref="NameTable"/>, <see cref="AttrsTable"/>)
/// and records the graph's edges between the loaded tensors as components (<see cref="Operands"/>,
/// <see cref="Readers"/>, runs of the <see cref="EdgeList"/>): from here
/// on the world is the graph.
/// </summary>
public sealed class GraphLoadSystem : ISystem
{
    public string Name => nameof(GraphLoadSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(reads: [typeof(CompileContext)], writes: [typeof(ShapeTable), typeof(NameTable), typeof(AttrsTable), typeof(EdgeList), typeof(TensorOp), typeof(SymbolicType), typeof(LayerScope), typeof(Operands), typeof(Readers), typeof(InputTag), typeof(StateTag), typeof(ParamTag), typeof(OutputTag), typeof(GradOf)]);

    public void Run(World world)
    {
        var context = world.Resource<CompileContext>();
        var shapes = new ShapeTable();
        var names = new NameTable();
        world.SetResource(shapes);
        world.SetResource(names);
        var attrs = new AttrsTable();
        world.SetResource(attrs);
        var lists = new EdgeList();
        world.SetResource(lists);
        var entityOf = new Dictionary<Node, Entity>();
        var live = LiveNodes(context);
        var gradientOf = context.Gradients.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).ToArray());
        var outputNames = context.Outputs.GroupBy(kv => kv.Value).ToDictionary(g => g.Key, g => g.Select(kv => kv.Key).ToArray());

        foreach (var node in context.Graph.Nodes)
        {
            if (!live.Contains(node)) continue;
            var entity = world.Create(OpOf(node, attrs), new SymbolicType { DType = node.DType, Shape = shapes.Intern(node.Shape) },
                new LayerScope { Name = names.Intern(node.Scope) });
            entityOf[node] = entity;
            if (node.Op == OpCode.Input && node.Attrs.Persistent) world.Add(entity, new StateTag { Name = names.Intern(node.Attrs.Name!) });
            else if (node.Op == OpCode.Input) world.Add(entity, new InputTag { Name = names.Intern(node.Attrs.Name!) });
            if (node.Op == OpCode.Parameter) world.Add(entity, new ParamTag { Name = names.Intern(node.Attrs.Name!) });
            if (outputNames.TryGetValue(node, out var outputs)) world.Add(entity, new OutputTag { Names = names.AddList(outputs) });
            if (gradientOf.TryGetValue(node, out var parameters)) world.Add(entity, new GradOf { Parameters = names.AddList(parameters) });
        }

        // A live node's inputs are live, so every edge joins two loaded tensors.
        var readers = entityOf.Keys.ToDictionary(n => n, _ => new List<Entity>());
        foreach (var (node, entity) in entityOf)
            foreach (var input in node.Inputs.Distinct())
                readers[input].Add(entity);
        foreach (var (node, entity) in entityOf)
        {
            world.Add(entity, new Operands { Tensors = lists.Add(node.Inputs.Select(i => entityOf[i])) });
            world.Add(entity, new Readers { Tensors = lists.Add(readers[node]) });
        }
    }

    private static TensorOp OpOf(Node node, AttrsTable attrs)
    {
        var a = node.Attrs;
        var flags = (a.TransposeA ? OpFlags.TransposeA : 0) | (a.TransposeB ? OpFlags.TransposeB : 0) | (a.KeepDims ? OpFlags.KeepDims : 0)
            | (a.Data is not null ? OpFlags.HasData : 0) | (a.Count is not null ? OpFlags.HasCount : 0);
        uint axes = 0;
        // Axes are non-negative; one of 32 or more cannot belong to a bound tensor (binding refuses ranks above TensorInfo.MaxRank).
        foreach (int axis in a.Axes) if (axis < 32) axes |= 1u << axis;
        return new TensorOp { Id = node.Id, Op = node.Op, Flags = flags, Value = a.Value, Axes = axes, Attrs = attrs.Intern(a) };
    }

    private static HashSet<Node> LiveNodes(CompileContext context) =>
        GraphTraversal.Ancestors(context.Outputs.Values.Concat(context.Gradients.Values)).ToHashSet();
}
