using System.Collections.Immutable;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Turns tensor entities into kernel entities. Elementwise ops fuse into trees: a producer joins
/// its consumer's kernel when the consumer is its only reader, has the same shape, and the
/// producer's value is not needed after the step. Kernels run in the order of their roots.
/// With <see cref="CompileOptions.MultiOutputFusion"/>, a producer that is also read outside the
/// group (typically by the backward pass, which needs forward intermediates) may join as well and
/// is written out as an extra output, provided every outside reader of every such output comes
/// after the group's root: the kernel runs at its root's place, so no reader can then run before
/// the kernel, and no cycle between kernels can form.
/// Broadcasts (expand) feeding such a tree become broadcast loads; scalar constants become
/// immediates; reshape and detach become aliases that move no data.
/// Before that, lowered layer norms (<see cref="LayerNormPattern"/>) that the backend supports become
/// one <see cref="LayerNormSpec"/> kernel each, and their gradients one <see cref="LayerNormBackwardSpec"/> (<see cref="LayerNormBackwardFusion"/>); with fusion off, or on a backend without that kernel,
/// their primitives fuse as above. Softmax forward and backward chains likewise (<see cref="SoftmaxFusion"/>),
/// after attention and its gradient (<see cref="AttentionFusion"/>), and cross-entropy from logits
/// (<see cref="CrossEntropyFusion"/>), and tanh-GELU with the bias add before it (<see cref="GeluFusion"/>).
/// It reads the tensors as components (<see cref="TensorGraph"/>: op facts, bound shapes, edges), never
/// their graph nodes; a node's whole attributes (<see cref="AttrsTable"/>) only where a single-op kernel's
/// spec carries them, a symbolic count is evaluated, or an error names a parameter.
/// It makes the <see cref="SpecTable"/> and the kernels' <see cref="EntityList"/> and only writes them
/// (and <see cref="KernelInfo"/>): placement reads what it made, so the schedule puts placement after it.
/// </summary>
public sealed class FusionSystem : ISystem
{
    // Per run: the inputs, and the loaded tensors with their edges as the world holds them.
    private CompileContext _context = null!;
    private TensorGraph _graph = null!;

    public string Name => nameof(FusionSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(CompileContext), typeof(AttrsTable), typeof(EdgeList), typeof(TensorOp), typeof(Operands), typeof(Readers), typeof(TensorInfo)],
        // OutputTag and GradOf are only tested for presence (World.Has), which is not an access.
        writes: [typeof(SpecTable), typeof(EntityList), typeof(KernelInfo), typeof(AliasOf)]);

    public void Run(World world)
    {
        _context = world.Resource<CompileContext>();
        _graph = TensorGraph.Read(world);
        var groupOf = new Dictionary<LoadedTensor, List<LoadedTensor>>();
        var nodes = _graph.Tensors;
        var patterns = _context.Options.Fusion ? MatchLayerNorms(world, nodes) : [];
        var claimed = patterns.Values.SelectMany(p => p.Match.Members).ToHashSet();
        var layerNormBackwards = _context.Options.Fusion ? LayerNormBackwardFusion.Match(world, _context, _graph, nodes, claimed, n => NeededAfterStep(world, n)) : [];
        var attentions = _context.Options.Fusion ? AttentionFusion.Match(world, _context, _graph, nodes, claimed, n => NeededAfterStep(world, n)) : [];
        var softmaxes = _context.Options.Fusion ? SoftmaxFusion.Match(world, _context, _graph, nodes, claimed, n => NeededAfterStep(world, n)) : [];
        var crossEntropies = _context.Options.Fusion ? CrossEntropyFusion.Match(world, _context, _graph, nodes, claimed, n => NeededAfterStep(world, n)) : [];
        var gelus = _context.Options.Fusion ? GeluFusion.Match(world, _context, _graph, nodes, claimed, n => NeededAfterStep(world, n)) : [];

        foreach (var node in nodes)
        {
            if (IsAlias(node))
            {
                world.Add(_graph[node], new AliasOf { Source = _graph[_graph.Operands(node)[0]] });
                continue;
            }
            if (node.Op == OpCode.StoreRows)
            {
                CheckWrittenInPlace(node);
                world.Add(_graph[node], new AliasOf { Source = _graph[_graph.Operands(node)[0]] });
            }
            if (!IsFusable(node) || claimed.Contains(node)) continue;
            var group = new List<LoadedTensor> { node };
            if (_context.Options.Fusion)
            {
                foreach (var input in _graph.Operands(node).Distinct())
                {
                    if (!groupOf.TryGetValue(input, out var producerGroup) || !input.SameShape(node)) continue;
                    if (TryJoin(world, [.. group, .. producerGroup], node, groupOf) is not { } joined) continue;
                    group = joined;
                    foreach (var member in group) if (member != node) groupOf.Remove(member);
                }
            }
            groupOf[node] = group;
        }

        var kernels = new List<(LoadedTensor Root, KernelDraft Draft)>();
        foreach (var node in nodes)
        {
            if (IsAlias(node) || node.Op is OpCode.Input or OpCode.Parameter) continue;
            if (patterns.TryGetValue(node, out var pattern)) kernels.Add((node, pattern.Kernel));
            else if (layerNormBackwards.TryGetValue(node, out var layerNormBackward)) kernels.Add((node, layerNormBackward.Kernel));
            else if (softmaxes.TryGetValue(node, out var softmax)) kernels.Add((node, softmax.Kernel));
            else if (attentions.TryGetValue(node, out var attention)) kernels.Add((node, attention.Kernel));
            else if (crossEntropies.TryGetValue(node, out var crossEntropy)) kernels.Add((node, crossEntropy.Kernel));
            else if (gelus.TryGetValue(node, out var gelu)) kernels.Add((node, gelu.Kernel));
            else if (claimed.Contains(node)) continue;
            else if (groupOf.TryGetValue(node, out var members))
                kernels.Add((node, FusedKernel(world, node, members, KernelOutputs(world, node, members))));
            else if (!IsFusable(node) && !(IsImmediate(node) && !NeedsMaterialising(world, node)))
                kernels.Add((node, SingleOpKernel(world, node)));
        }

        var specs = new SpecTable();
        world.SetResource(specs);
        var lists = new EntityList();
        world.SetResource(lists);
        int order = 0;
        foreach (var (_, draft) in kernels.OrderBy(k => k.Root.Id)) draft.Create(world, specs, lists, order++);
    }

    /// <summary>
    /// Layer norms the backend runs as one kernel, by their root. A match is taken only when every
    /// value it writes out besides the root is read after the root (the kernel runs at its root's
    /// place), and when the backend supports the kernel: elsewhere the elementwise fusion takes the
    /// same nodes, so fusion is per backend capability.
    /// </summary>
    private Dictionary<LoadedTensor, (LayerNormPattern.Match Match, KernelDraft Kernel)> MatchLayerNorms(World world, IReadOnlyList<LoadedTensor> nodes)
    {
        var found = new Dictionary<LoadedTensor, (LayerNormPattern.Match, KernelDraft)>();
        var taken = new HashSet<LoadedTensor>();
        foreach (var node in nodes)
        {
            if (LayerNormPattern.TryMatch(_graph, node) is not { } match) continue;
            var members = match.Members.ToHashSet();
            if (members.Overlaps(taken)) continue;
            if (PatternOutputs.Written(_graph, match.Stages, members, n => NeededAfterStep(world, n)) is not { } written) continue;
            var outputs = written.Select(s => (LayerNormStage)s).ToList();
            var x = world.Get<TensorInfo>(_graph[match.X]).Desc;
            long width = x.Shape[^1];
            var spec = new LayerNormSpec(x.Elements / Math.Max(1, width), width,
                ImmediateValue(match.Constants[0]), ImmediateValue(match.Constants[1]), ImmediateValue(match.Constants[2]), [.. outputs]);
            if (!_context.Backend.SupportsOp(spec).IsSupported) continue;
            taken.UnionWith(members);
            found[node] = (match, new KernelDraft(
                spec,
                [_graph[match.X], _graph[match.Gain], _graph[match.Bias]],
                [.. outputs.Select(s => _graph[match.Stages[(int)s]])],
                [.. match.Members.OrderBy(m => m.Id).Select(m => _graph[m])]));
        }
        return found;
    }

    /// <summary>
    /// store_rows overwrites its target's storage, so the target (and whatever it aliases, up to the
    /// tensor that owns the storage) must be read by nothing else, and must not be a parameter.
    /// </summary>
    private void CheckWrittenInPlace(LoadedTensor node)
    {
        for (var target = _graph.Operands(node)[0]; ; target = _graph.Operands(target)[0])
        {
            var consumers = _graph.Readers(target);
            if (target.Op == OpCode.Parameter)
                throw new CompileException($"store_rows %{node.Id} would overwrite parameter '{target.Attrs.Name}' in place");
            if (consumers.Count != 1)
                throw new CompileException($"store_rows %{node.Id} writes %{target.Id} in place, but %{target.Id} is also read by %{consumers.First(c => c != node).Id}");
            if (!IsAlias(target)) return;
            node = target;
        }
    }

    private static bool IsAlias(LoadedTensor node) => node.Op is OpCode.Reshape or OpCode.Detach;

    private static bool IsFusable(LoadedTensor node) =>
        (node.Op == OpCode.Expand || OpCatalog.Get(node.Op).IsElementwise) && !IsAlias(node);

    /// <summary>A scalar constant whose value is known at compile time is written into the kernels that read it.</summary>
    private static bool IsImmediate(LoadedTensor node) => node.Op == OpCode.Constant && !node.Has(OpFlags.HasData);

    private bool NeedsMaterialising(World world, LoadedTensor node) =>
        NeededAfterStep(world, node) || _graph.Readers(node).Any(c => !IsFusable(c));

    /// <summary>
    /// <paramref name="members"/> as one kernel rooted at <paramref name="root"/>, or null when they
    /// cannot be. An outside reader of a member that would run before the root blocks the join,
    /// unless that reader is itself the root of a pending elementwise group of the same shape: then
    /// its group is taken in too (gelu's 0.5·x is built before tanh(…), yet both end in one product).
    /// </summary>
    private List<LoadedTensor>? TryJoin(World world, List<LoadedTensor> members, LoadedTensor root, Dictionary<LoadedTensor, List<LoadedTensor>> groupOf)
    {
        while (true)
        {
            var set = members.ToHashSet();
            LoadedTensor? blocker = null;
            foreach (var member in members)
            {
                if (member == root) continue;
                bool readOutside = _graph.Readers(member).Any(c => !set.Contains(c));
                if (!readOutside && !NeededAfterStep(world, member)) continue;
                if (!_context.Options.MultiOutputFusion) return null;
                // An extra output: every outside reader must run after the kernel, which runs at the root.
                blocker = _graph.Readers(member).FirstOrNull(c => !set.Contains(c) && c.Id < root.Id);
                if (blocker is not null) break;
            }
            if (blocker is null) return members;
            if (!groupOf.TryGetValue(blocker.Value, out var blockerGroup) || !blocker.Value.SameShape(root)) return null;
            members = [.. members, .. blockerGroup];
        }
    }

    private bool NeededAfterStep(World world, LoadedTensor node)
    {
        var entity = _graph[node];
        return world.Has<OutputTag>(entity) || world.Has<GradOf>(entity);
    }

    /// <summary>Members read outside the kernel or after the step: the root, then the rest in graph order.</summary>
    private List<LoadedTensor> KernelOutputs(World world, LoadedTensor root, List<LoadedTensor> members)
    {
        var set = members.ToHashSet();
        var outputs = new List<LoadedTensor> { root };
        foreach (var member in members.OrderBy(m => m.Id))
            if (member != root && (NeededAfterStep(world, member) || _graph.Readers(member).Any(c => !set.Contains(c))))
                outputs.Add(member);
        return outputs;
    }

    private float ImmediateValue(LoadedTensor node) =>
        node.Attrs.Count is { } count ? count.Evaluate(_context.Bindings) : (float)node.Value;

    private KernelDraft FusedKernel(World world, LoadedTensor root, List<LoadedTensor> members, List<LoadedTensor> outputs)
    {
        var memberSet = members.ToHashSet();
        var registerOf = new Dictionary<LoadedTensor, int>();
        var immediates = new Dictionary<float, int>();
        var program = ImmutableArray.CreateBuilder<FusedInstruction>();
        var inputs = new List<LoadedTensor>();
        var rootDesc = world.Get<TensorInfo>(_graph[root]).Desc;

        int Operand(LoadedTensor input)
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
                registerOf[member] = Operand(_graph.Operands(member)[0]);
                continue;
            }
            var operands = _graph.Operands(member).Select(Operand).ToArray();
            program.Add(operands.Length == 1
                ? FusedInstruction.Unary(member.Op, operands[0], member.Op == OpCode.Cast ? member.DType : DType.F32)
                : FusedInstruction.Binary(member.Op, operands[0], operands[1]));
            registerOf[member] = program.Count - 1;
        }

        var spec = new FusedElementwiseSpec(
            [.. inputs.Select(i => world.Get<TensorInfo>(_graph[i]).Desc)],
            rootDesc.Shape,
            program.ToImmutable(),
            [.. outputs.Select(o => registerOf[o])],
            [.. outputs.Select(o => o.DType)]);
        return new KernelDraft(spec, [.. inputs.Select(i => _graph[i])], [.. outputs.Select(o => _graph[o])], [.. members.OrderBy(m => m.Id).Select(m => _graph[m])]);
    }

    private KernelDraft SingleOpKernel(World world, LoadedTensor node)
    {
        var spec = new OpKernelSpec(
            node.Op,
            node.Attrs,
            [.. _graph.Operands(node).Select(i => world.Get<TensorInfo>(_graph[i]).Desc)],
            world.Get<TensorInfo>(_graph[node]).Desc)
        {
            Count = node.Attrs.Count?.Evaluate(_context.Bindings) ?? 0,
        };
        return new KernelDraft(spec, [.. _graph.Operands(node).Select(i => _graph[i])], [_graph[node]], [_graph[node]], UsesSeed: node.Op == OpCode.DropoutMask);
    }
}
