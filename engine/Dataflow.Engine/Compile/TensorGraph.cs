using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Compile;

/// <summary>
/// The loaded tensors as fusion and its patterns walk them, read from the world in one query at the
/// start of a system's run (not kept between systems): each tensor's op facts (<see cref="TensorOp"/>),
/// its bound shape (<see cref="TensorInfo"/>), what it reads (<see cref="Operands"/>) and what reads it
/// (<see cref="Readers"/>). Only components are read, never a graph node, so a node that was not loaded
/// is never reached and a system that rewires the world is seen.
/// </summary>
internal sealed class TensorGraph
{
    private static readonly QueryDescription Loaded = new QueryDescription().WithAll<TensorOp, TensorInfo, Operands, Readers>();

    private Entity[] _entities = [];
    private TensorOp[] _ops = [];
    private TensorInfo[] _infos = [];
    private LoadedTensor[][] _operands = [];
    private LoadedTensor[][] _readers = [];
    private AttrsTable _attrs = null!;

    private TensorGraph() { }

    /// <summary>The loaded tensors in graph order.</summary>
    public IReadOnlyList<LoadedTensor> Tensors { get; private set; } = [];

    /// <summary>Needs <see cref="AttrsTable"/>, <see cref="EdgeList"/>, <see cref="TensorOp"/>, <see cref="TensorInfo"/>, <see cref="Operands"/> and <see cref="Readers"/> declared as read.</summary>
    public static TensorGraph Read(World world)
    {
        var lists = world.Resource<EdgeList>();
        var rows = new List<(Entity Entity, TensorOp Op, TensorInfo Info, ListRange Operands, ListRange Readers)>();
        world.ForEachWithEntity(in Loaded, (Entity entity, ref TensorOp op, ref TensorInfo info, ref Operands operands, ref Readers readers) =>
            rows.Add((entity, op, info, operands.Tensors, readers.Tensors)));
        rows.Sort((a, b) => a.Op.Id.CompareTo(b.Op.Id));

        var graph = new TensorGraph { _attrs = world.Resource<AttrsTable>() };
        graph._entities = [.. rows.Select(r => r.Entity)];
        graph._ops = [.. rows.Select(r => r.Op)];
        graph._infos = [.. rows.Select(r => r.Info)];
        var tensors = new LoadedTensor[rows.Count];
        var indexOf = new Dictionary<Entity, int>(rows.Count);
        for (int i = 0; i < rows.Count; i++)
        {
            tensors[i] = new LoadedTensor(graph, i);
            indexOf[rows[i].Entity] = i;
        }
        graph._operands = [.. rows.Select(r => Resolve(lists[r.Operands], indexOf, tensors))];
        graph._readers = [.. rows.Select(r => Resolve(lists[r.Readers], indexOf, tensors))];
        graph.Tensors = tensors;
        return graph;
    }

    private static LoadedTensor[] Resolve(ReadOnlySpan<Entity> entities, Dictionary<Entity, int> indexOf, LoadedTensor[] tensors)
    {
        var result = new LoadedTensor[entities.Length];
        for (int i = 0; i < entities.Length; i++) result[i] = tensors[indexOf[entities[i]]];
        return result;
    }

    /// <summary>The tensor entity of a loaded tensor.</summary>
    public Entity this[LoadedTensor tensor] => tensor.Entity;

    /// <summary>What <paramref name="tensor"/> reads, in operand order.</summary>
    public IReadOnlyList<LoadedTensor> Operands(LoadedTensor tensor) => _operands[tensor.Index];

    /// <summary>The loaded tensors that read <paramref name="tensor"/>, each once, in graph order.</summary>
    public IReadOnlyList<LoadedTensor> Readers(LoadedTensor tensor) => _readers[tensor.Index];

    internal Entity EntityAt(int index) => _entities[index];

    internal ref readonly TensorOp OpAt(int index) => ref _ops[index];

    internal ref readonly TensorInfo InfoAt(int index) => ref _infos[index];

    internal OpAttrs AttrsAt(int index) => _attrs[_ops[index].Attrs];
}

/// <summary>
/// One loaded tensor of a <see cref="TensorGraph"/>, as a pattern tests it: its op facts and bound shape,
/// read from the components the graph was built from. Two are equal when they are the same tensor.
/// </summary>
internal readonly struct LoadedTensor(TensorGraph graph, int index) : IEquatable<LoadedTensor>
{
    private readonly TensorGraph _graph = graph;

    /// <summary>The tensor's place in graph order in its <see cref="TensorGraph"/>.</summary>
    public int Index { get; } = index;

    public Entity Entity => _graph.EntityAt(Index);

    /// <summary>The graph node's id (creation order, a topological order).</summary>
    public int Id => _graph.OpAt(Index).Id;

    public OpCode Op => _graph.OpAt(Index).Op;

    public DType DType => _graph.InfoAt(Index).DType;

    public int Rank => _graph.InfoAt(Index).Rank;

    /// <summary>The bound shape (and dtype).</summary>
    public ref readonly TensorInfo Info => ref _graph.InfoAt(Index);

    /// <summary>The length of <paramref name="axis"/> (from the end with ^).</summary>
    public long Dim(System.Index axis) => _graph.InfoAt(Index).Shape[axis.GetOffset(Rank)];

    public bool SameShape(LoadedTensor other) => Info.SameShape(other.Info);

    public bool Has(OpFlags flag) => _graph.OpAt(Index).Has(flag);

    /// <summary>Constant: the scalar value. DropoutMask: the drop probability.</summary>
    public double Value => _graph.OpAt(Index).Value;

    /// <summary>Reductions: the reduced axes, one bit each.</summary>
    public uint Axes => _graph.OpAt(Index).Axes;

    /// <summary>A scalar constant whose value is its attribute (no tensor data, no symbolic count).</summary>
    public bool IsScalarConstant => Op == OpCode.Constant && !Has(OpFlags.HasData) && !Has(OpFlags.HasCount) && Rank == 0;

    /// <summary>The node's whole attributes, for what needs the objects (a single op's kernel spec, a count to evaluate, a name in a message).</summary>
    public OpAttrs Attrs => _graph.AttrsAt(Index);

    public bool Equals(LoadedTensor other) => Index == other.Index && ReferenceEquals(_graph, other._graph);

    public override bool Equals(object? obj) => obj is LoadedTensor other && Equals(other);

    public override int GetHashCode() => Index;

    public static bool operator ==(LoadedTensor a, LoadedTensor b) => a.Equals(b);

    public static bool operator !=(LoadedTensor a, LoadedTensor b) => !a.Equals(b);

    public override string ToString() => $"%{Id}";
}

internal static class LoadedTensors
{
    /// <summary>The first tensor that satisfies <paramref name="predicate"/>, or null (a default <see cref="LoadedTensor"/> names no tensor).</summary>
    public static LoadedTensor? FirstOrNull(this IEnumerable<LoadedTensor> tensors, Func<LoadedTensor, bool> predicate)
    {
        foreach (var tensor in tensors) if (predicate(tensor)) return tensor;
        return null;
    }
}
