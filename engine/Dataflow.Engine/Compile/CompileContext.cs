using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;

namespace Dataflow.Engine.Compile;

/// <summary>
/// What a compilation starts from: the graph, the bound dimension values, the backend, where
/// parameters live. A read-only resource of the compile world; everything the systems derive is
/// components (or, for what is not per entity, the <see cref="ProgramBuffers"/> resource).
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
}
