using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Lora;

namespace Dataflow.Engine.Sessions;

/// <summary>Moves a LoRA model's adapters to and from an adapter file (<see cref="LoraAdapter"/>); the base comes from its own checkpoint.</summary>
public static class SessionAdapter
{
    /// <summary>The adapter parameters of a graph lowered with LoRA, as a checkpoint layout.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Layout(ComputeGraph graph) =>
        graph.Parameters.Where(p => p.Category == ParamCategory.Adapter).Select(p => (p.Name, p.Node.Shape.ToConcrete())).ToList();

    /// <summary>Writes the session's adapter tensors, with the base's checksum, to <paramref name="path"/> (atomically).</summary>
    public static void Save(Session session, ComputeGraph graph, LoraConfig config, string basePath, string path, IReadOnlyDictionary<string, string>? extraConfig = null)
    {
        var tensors = Layout(graph).Select(p =>
        {
            var slot = session.Parameters.Get(p.Name);
            return NamedTensor.FromFloats(p.Name, p.Shape, session.Parameters.Read(slot.Value, slot.Elements));
        }).ToList();
        CheckpointWriter.Save(path, LoraAdapter.Create(graph.Name, session.Step, config, basePath, tensors, extraConfig));
    }

    /// <summary>
    /// Loads base weights and an adapter into a session for <paramref name="graph"/> (lowered with the
    /// adapter's config): refuses an adapter trained on another base, then checks both layouts.
    /// </summary>
    public static void Load(Session session, ComputeGraph graph, string basePath, LoraAdapter adapter)
    {
        adapter.CheckBase(basePath);
        SessionCheckpoint.LoadWeights(session, graph, basePath);
        CheckpointValidator.CheckMatches(adapter.Checkpoint, adapter.Path, graph.Name, Layout(graph));
        foreach (var tensor in adapter.Tensors) session.Parameters.Write(session.Parameters.Get(tensor.Name).Value, tensor.AsFloats());
    }
}
