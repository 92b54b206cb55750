using Dataflow.Engine.Backends;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;

namespace Dataflow.Engine.Compile;

/// <summary>
/// What the compile systems share besides the world: the graph, the bound dimension values, the
/// backend, where parameters live, and the results that later systems and the frame schedule read
/// in order (the dispatch order of kernels, the tensors by node).
/// </summary>
public sealed class CompileContext
{
    public required ComputeGraph Graph { get; init; }
    public required IReadOnlyDictionary<string, long> Bindings { get; init; }
    public required IBackend Backend { get; init; }
    public required ParameterStore Parameters { get; init; }
    public CompileOptions Options { get; init; } = CompileOptions.Default;

    /// <summary>Where state tensors live; null gives the program states of its own (zeroed, freed with it).</summary>
    public StateStore? States { get; init; }

    /// <summary>Nodes that must be readable after a step, by the name they are fetched with.</summary>
    public required IReadOnlyDictionary<string, Node> Outputs { get; init; }

    /// <summary>Gradient nodes by parameter name (empty for inference).</summary>
    public IReadOnlyDictionary<string, Node> Gradients { get; init; } = new Dictionary<string, Node>();

    public Dictionary<Node, Entity> TensorOf { get; } = [];
    public List<Entity> Kernels { get; } = [];

    /// <summary>Buffers this program allocated (transient slots, inputs, outputs); freed with the program.</summary>
    public List<IDeviceBuffer> OwnedBuffers { get; } = [];

    public long TransientElements { get; set; }
    public long UnplannedElements { get; set; }
}
