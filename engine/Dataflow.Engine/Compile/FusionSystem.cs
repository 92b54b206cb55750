using System.Collections.Immutable;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns tensor entities into kernel entities. Elementwise ops fuse into trees: a producer joins
/// its consumer's kernel when the consumer is its only reader, has the same shape, and the
/// producer's value is not needed after the step. Trees cannot form cycles between kernels, and
/// each kernel has one output (its root), so kernels run in the order of their roots.
/// Broadcasts (expand) feeding such a tree become broadcast loads; scalar constants become
/// immediates; reshape and detach become aliases that move no data.
/// </summary>
public sealed class FusionSystem(CompileContext context) : ISystem
{
    public string Name => nameof(FusionSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(TensorNode), typeof(TensorInfo), typeof(OutputTag), typeof(GradOf)],
        writes: [typeof(KernelInfo), typeof(ProducedBy), typeof(AliasOf)]);

    public void Run(World world)
    {
        var consumers = CountConsumers();
        var groupOf = new Dictionary<Node, List<Node>>();
        var nodes = context.TensorOf.Keys.OrderBy(n => n.Id).ToList();

        foreach (var node in nodes)
        {
            if (IsAlias(node))
            {
                world.Add(context.TensorOf[node], new AliasOf { Source = context.TensorOf[node.Inputs[0]] });
                continue;
            }
            if (!IsFusable(node)) continue;
            var group = new List<Node>();
            if (context.Options.Fusion)
            {
                foreach (var input in node.Inputs.Distinct())
                {
                    if (groupOf.TryGetValue(input, out var producerGroup) && CanJoin(world, input, node, consumers))
                    {
                        group.AddRange(producerGroup);
                        groupOf.Remove(input);
                    }
                }
            }
            group.Add(node);
            groupOf[node] = group;
        }

        var kernels = new List<(Node Root, KernelInfo Info)>();
        foreach (var node in nodes)
        {
            if (IsAlias(node) || node.Op is OpCode.Input or OpCode.Parameter) continue;
            if (groupOf.TryGetValue(node, out var members))
                kernels.Add((node, FusedKernel(world, node, members)));
            else if (!IsFusable(node) && !(IsImmediate(node) && !NeedsMaterialising(node)))
                kernels.Add((node, SingleOpKernel(world, node)));
        }

        foreach (var (root, info) in kernels.OrderBy(k => k.Root.Id))
        {
            var kernelInfo = info;
            kernelInfo.Order = context.Kernels.Count;
            var kernel = world.Create(kernelInfo);
            context.Kernels.Add(kernel);
            world.Add(context.TensorOf[root], new ProducedBy { Kernel = kernel });
        }
    }

    private Dictionary<Node, int> CountConsumers()
    {
        var counts = context.TensorOf.Keys.ToDictionary(n => n, _ => 0);
        foreach (var node in context.TensorOf.Keys)
            foreach (var input in node.Inputs)
                counts[input]++;
        return counts;
    }

    private static bool IsAlias(Node node) => node.Op is OpCode.Reshape or OpCode.Detach;

    private static bool IsFusable(Node node) =>
        (node.Op == OpCode.Expand || OpCatalog.Get(node.Op).IsElementwise) && !IsAlias(node);

    /// <summary>A scalar constant whose value is known at compile time is written into the kernels that read it.</summary>
    private static bool IsImmediate(Node node) => node.Op == OpCode.Constant && node.Attrs.Data is null;

    private bool NeedsMaterialising(Node node) =>
        context.Outputs.Values.Contains(node) || context.Gradients.Values.Contains(node) ||
        context.TensorOf.Keys.Any(c => c.Inputs.Contains(node) && !IsFusable(c));

    private bool CanJoin(World world, Node producer, Node consumer, Dictionary<Node, int> consumers)
    {
        if (consumers[producer] != 1) return false;
        var entity = context.TensorOf[producer];
        if (world.Has<OutputTag>(entity) || world.Has<GradOf>(entity)) return false;
        return SameShape(world, producer, consumer);
    }

    private bool SameShape(World world, Node a, Node b) =>
        world.Get<TensorInfo>(context.TensorOf[a]).Desc.Shape.AsSpan().SequenceEqual(world.Get<TensorInfo>(context.TensorOf[b]).Desc.Shape);

    private float ImmediateValue(Node node) =>
        node.Attrs.Count is { } count ? count.Evaluate(context.Bindings) : (float)node.Attrs.Value;

    private KernelInfo FusedKernel(World world, Node root, List<Node> members)
    {
        var memberSet = members.ToHashSet();
        var registerOf = new Dictionary<Node, int>();
        var immediates = new Dictionary<float, int>();
        var program = ImmutableArray.CreateBuilder<FusedInstruction>();
        var inputs = new List<Node>();
        var rootDesc = world.Get<TensorInfo>(context.TensorOf[root]).Desc;

        int Operand(Node input)
        {
            if (registerOf.TryGetValue(input, out var register)) return register;
            if (IsImmediate(input) && !memberSet.Contains(input))
            {
                var value = ImmediateValue(input);
                if (!immediates.TryGetValue(value, out register))
                {
                    program.Add(FusedInstruction.Const(value));
                    immediates[value] = register = program.Count - 1;
                }
                return register;
            }
            inputs.Add(input);
            program.Add(FusedInstruction.Load(inputs.Count - 1));
            return registerOf[input] = program.Count - 1;
        }

        foreach (var member in members.OrderBy(m => m.Id))
        {
            if (member.Op == OpCode.Expand)
            {
                registerOf[member] = Operand(member.Inputs[0]);
                continue;
            }
            var operands = member.Inputs.Select(Operand).ToArray();
            program.Add(operands.Length == 1
                ? FusedInstruction.Unary(member.Op, operands[0], member.Op == OpCode.Cast ? member.DType : DType.F32)
                : FusedInstruction.Binary(member.Op, operands[0], operands[1]));
            registerOf[member] = program.Count - 1;
        }

        var spec = new FusedElementwiseSpec(
            [.. inputs.Select(i => world.Get<TensorInfo>(context.TensorOf[i]).Desc)],
            rootDesc.Shape,
            program.ToImmutable(),
            [registerOf[root]],
            [root.DType]);
        return new KernelInfo
        {
            Spec = spec,
            Inputs = [.. inputs.Select(i => context.TensorOf[i])],
            Outputs = [context.TensorOf[root]],
            Nodes = [.. members.OrderBy(m => m.Id)],
        };
    }

    private KernelInfo SingleOpKernel(World world, Node node)
    {
        var spec = new OpKernelSpec(
            node.Op,
            node.Attrs,
            [.. node.Inputs.Select(i => world.Get<TensorInfo>(context.TensorOf[i]).Desc)],
            world.Get<TensorInfo>(context.TensorOf[node]).Desc)
        {
            Count = node.Attrs.Count?.Evaluate(context.Bindings) ?? 0,
        };
        return new KernelInfo
        {
            Spec = spec,
            Inputs = [.. node.Inputs.Select(i => context.TensorOf[i])],
            Outputs = [context.TensorOf[node]],
            Nodes = [node],
            UsesSeed = node.Op == OpCode.DropoutMask,
        };
    }
}
