using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Conformance;

/// <summary>
/// Builds a case's graph and draws its values. Differentiable operands are parameters (autodiff
/// gives gradients for parameters), integer operands are i32 inputs. Values come from a generator
/// seeded by the case name, so every run and every backend sees the same numbers.
/// </summary>
public sealed class CaseBuilder
{
    private readonly Random _random;
    private readonly Dictionary<string, Array> _inputs = new(StringComparer.Ordinal);
    private readonly Dictionary<string, float[]> _parameters = new(StringComparer.Ordinal);

    public CaseBuilder(string name)
    {
        Graph = new ComputeGraph(name);
        B = new GraphBuilder(Graph);
        _random = new Random(StableSeed(name));
        Layers = new LowerContext(new SourceText(name + ".dfg", ""), B, training: true, () => []);
    }

    public ComputeGraph Graph { get; }
    public GraphBuilder B { get; }
    public Dictionary<string, long> Bindings { get; } = new(StringComparer.Ordinal);
    public IReadOnlyDictionary<string, Array> Inputs => _inputs;
    public IReadOnlyDictionary<string, float[]> Parameters => _parameters;

    /// <summary>
    /// What the DSL's layers lower through (<c>LayerNorm.ApplyRms(c.Layers, …)</c>), so a case runs the
    /// layer code a model file does; the layers make their own parameters, which
    /// <see cref="DrawLayerParameters"/> then gives values.
    /// </summary>
    public LowerContext Layers { get; }

    /// <summary>Uniform values in [low, high) for every parameter of the graph under <paramref name="scope"/> that has none yet.</summary>
    public void DrawLayerParameters(string scope, double low, double high)
    {
        foreach (var p in Graph.Parameters.Where(p => p.Name.StartsWith(scope + ".", StringComparison.Ordinal) && !_parameters.ContainsKey(p.Name)))
            _parameters[p.Name] = Uniform(Count(p.Node.Shape.ToConcrete()), low, high);
    }

    /// <summary>An f32 parameter with uniform values in [low, high).</summary>
    public Node Param(string name, long[] shape, double low = -1, double high = 1) =>
        Param(name, shape, Uniform(Count(shape), low, high));

    public Node Param(string name, long[] shape, float[] values)
    {
        _parameters[name] = values;
        return B.Parameter(name, Shape.Of(shape), ParamInit.Zeros);
    }

    /// <summary>An f32 input fed each step (not differentiated).</summary>
    public Node Input(string name, long[] shape, double low = -1, double high = 1)
    {
        _inputs[name] = Uniform(Count(shape), low, high);
        return B.Input(name, new TensorType(DType.F32, Shape.Of(shape)));
    }

    /// <summary>An f32 input with given values (a 0/1 mask).</summary>
    public Node Input(string name, long[] shape, float[] values)
    {
        if (values.Length != Count(shape)) throw new ArgumentException($"{name}: {values.Length} values for shape [{string.Join(",", shape)}]");
        _inputs[name] = values;
        return B.Input(name, new TensorType(DType.F32, Shape.Of(shape)));
    }

    /// <summary>A bf16x2 input (a bf16 cache) [..., n]: 2n uniform values in [low, high) per row, rounded and packed in pairs.</summary>
    public Node PackedInput(string name, long[] shape, double low = -1, double high = 1)
    {
        var values = Uniform(2 * Count(shape), low, high);
        _inputs[name] = Enumerable.Range(0, values.Length / 2).Select(i => BFloat16.Pack(values[2 * i], values[2 * i + 1])).ToArray();
        return B.Input(name, new TensorType(DType.Bf16x2, Shape.Of(shape)));
    }

    /// <summary>An i32 input with values in [low, high).</summary>
    public Node Indices(string name, long[] shape, int low, int high)
    {
        var values = new int[Count(shape)];
        for (int i = 0; i < values.Length; i++) values[i] = _random.Next(low, high);
        return Indices(name, shape, values);
    }

    public Node Indices(string name, long[] shape, int[] values)
    {
        if (values.Length != Count(shape)) throw new ArgumentException($"{name}: {values.Length} values for shape [{string.Join(",", shape)}]");
        _inputs[name] = values;
        return B.Input(name, new TensorType(DType.I32, Shape.Of(shape)));
    }

    public float[] Uniform(long count, double low = -1, double high = 1)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = (float)(low + (high - low) * _random.NextDouble());
        return values;
    }

    /// <summary>Values on a coarse grid (multiples of 1/<paramref name="steps"/> in [-1, 1]), so that ties and equal pairs occur.</summary>
    public float[] Grid(long count, int steps = 2)
    {
        var values = new float[count];
        for (long i = 0; i < count; i++) values[i] = _random.Next(-steps, steps + 1) / (float)steps;
        return values;
    }

    public void Output(Node node, string name = "y") => Graph.SetOutput(name, node);

    /// <summary>
    /// Fetches <paramref name="y"/> and makes the loss Σ y·R for a fixed random R, so that every
    /// output element sends a different upstream gradient back and every input gradient is checked.
    /// </summary>
    public void OutputWithLoss(Node y)
    {
        Output(y);
        var weights = B.Constant(Uniform(Count(y.Shape.ToConcrete())), y.Shape);
        Graph.Loss = B.ReduceSum(B.Mul(y, weights), Enumerable.Range(0, y.Shape.Rank));
    }

    public static long Count(long[] shape) => shape.Aggregate(1L, (a, b) => a * b);

    /// <summary>FNV-1a of the name: string.GetHashCode is randomised per process.</summary>
    private static int StableSeed(string name)
    {
        uint hash = 2166136261;
        foreach (char c in name) hash = (hash ^ c) * 16777619;
        return (int)(hash & 0x7FFFFFFF);
    }
}
