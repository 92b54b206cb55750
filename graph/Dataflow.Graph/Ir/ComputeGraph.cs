using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Ir;

/// <summary>What a parameter is for, so that inspection can break the count down.</summary>
public enum ParamCategory : byte
{
    Other,
    Embedding,
    Attention,
    Mlp,
    Norm,
    /// <summary>LoRA's low-rank A and B (<see cref="Lora.LoraConfig"/>).</summary>
    Adapter,
}

/// <summary>
/// A learned tensor: its node plus how it is counted. A frozen one (<see cref="Trainable"/> false, the
/// base of a LoRA model) is read but never differentiated, updated or given optimizer state.
/// </summary>
public sealed record ParameterInfo(Node Node, ParamCategory Category)
{
    public string Name => Node.Attrs.Name!;
    public bool Trainable { get; init; } = true;
}

/// <summary>One user-visible layer (a call in the model file) for inspection.</summary>
public sealed record LayerInfo(string Name, string Kind, TensorType Output, long Parameters, string Scope);

/// <summary>
/// Copies of a repeated block that a count-only lowering did not build: <see cref="Copies"/> more of
/// the block lowered as <see cref="FirstScope"/>, each with <see cref="ParametersPerCopy"/> parameters
/// (by category in <see cref="PerCategory"/>).
/// </summary>
public sealed record RepeatedCopies(string FirstScope, string Kind, long Copies, long ParametersPerCopy,
    IReadOnlyDictionary<ParamCategory, long> PerCategory, TensorType Output);

/// <summary>
/// A static computation graph: nodes in topological order, named inputs, parameters and outputs.
/// Training adds the backward nodes to the same graph (see <see cref="Autodiff.Differentiator"/>).
/// </summary>
public sealed class ComputeGraph
{
    private readonly List<Node> _nodes = [];
    private readonly Dictionary<string, Node> _inputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, Node> _outputs = new(StringComparer.Ordinal);
    private readonly List<ParameterInfo> _parameters = [];
    private readonly HashSet<string> _parameterNames = new(StringComparer.Ordinal);
    private readonly List<LayerInfo> _layers = [];
    private readonly List<RepeatedCopies> _repeated = [];

    public ComputeGraph(string name) => Name = name;

    public string Name { get; }
    public IReadOnlyList<Node> Nodes => _nodes;
    public IReadOnlyDictionary<string, Node> Inputs => _inputs;
    public IReadOnlyDictionary<string, Node> Outputs => _outputs;
    public IReadOnlyList<ParameterInfo> Parameters => _parameters;
    public IReadOnlyList<LayerInfo> Layers => _layers;

    /// <summary>Copies counted but not built (count-only lowering); empty for a graph that runs.</summary>
    public IReadOnlyList<RepeatedCopies> RepeatedCopies => _repeated;

    public void AddRepeatedCopies(RepeatedCopies copies) => _repeated.Add(copies);

    /// <summary>Parameter elements by category, the copies counted but not built included (checked).</summary>
    public IReadOnlyDictionary<ParamCategory, long> ParameterCountByCategory()
    {
        var counts = new Dictionary<ParamCategory, long>();
        void Add(ParamCategory c, long n)
        {
            counts.TryGetValue(c, out var sum);
            try { counts[c] = checked(sum + n); }
            catch (OverflowException) { throw new GraphException($"graph {Name} has more than 2^63 - 1 parameters"); }
        }
        foreach (var p in _parameters) Add(p.Category, p.Node.Shape.ElementCount());
        foreach (var r in _repeated)
            foreach (var (c, n) in r.PerCategory)
            {
                try { Add(c, checked(n * r.Copies)); }
                catch (OverflowException) { throw new GraphException($"graph {Name} has more than 2^63 - 1 parameters"); }
            }
        return counts;
    }

    /// <summary>The scalar the optimizer minimises, when the model declares one.</summary>
    public Node? Loss { get; set; }

    /// <summary>Model settings after defaults, preset and overrides; recorded in checkpoints.</summary>
    public IReadOnlyDictionary<string, double> Settings { get; set; } = new Dictionary<string, double>();

    /// <summary>All parameters' elements, checked: a total past 2^63 is a GraphException, never a negative count.</summary>
    public long ParameterCount(IReadOnlyDictionary<string, long>? bindings = null)
    {
        long total = 0;
        foreach (var n in ParameterCountByCategory().Values)
        {
            try { total = checked(total + n); }
            catch (OverflowException) { throw new GraphException($"graph {Name} has more than 2^63 - 1 parameters"); }
        }
        return total;
    }

    internal Node Append(OpCode op, IEnumerable<Node> inputs, OpAttrs attrs, TensorType type, string scope)
    {
        var node = new Node(_nodes.Count, op, [.. inputs], attrs, type, scope);
        _nodes.Add(node);
        return node;
    }

    internal void RegisterInput(Node node)
    {
        if (!_inputs.TryAdd(node.Attrs.Name!, node))
            throw new GraphException($"input '{node.Attrs.Name}' is declared twice");
    }

    internal void RegisterParameter(ParameterInfo info)
    {
        if (!_parameterNames.Add(info.Name))
            throw new GraphException($"parameter '{info.Name}' is declared twice");
        _parameters.Add(info);
    }

    /// <summary>Freezes every parameter <paramref name="keep"/> does not pick: training leaves those as they are.</summary>
    public void FreezeAllBut(Func<ParameterInfo, bool> keep)
    {
        for (int i = 0; i < _parameters.Count; i++)
            if (!keep(_parameters[i])) _parameters[i] = _parameters[i] with { Trainable = false };
    }

    /// <summary>The parameters training updates.</summary>
    public IEnumerable<ParameterInfo> TrainableParameters => _parameters.Where(p => p.Trainable);

    public void SetOutput(string name, Node node) => _outputs[name] = node;

    public void AddLayer(LayerInfo layer) => _layers.Add(layer);

    public override string ToString() => string.Join(Environment.NewLine, _nodes);
}

/// <summary>The graph was built wrongly (a duplicate name, an op applied to the wrong things).</summary>
public sealed class GraphException(string message) : Exception(message);
