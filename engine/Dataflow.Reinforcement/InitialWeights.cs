using Dataflow.Engine.Sessions;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Ir;

namespace Dataflow.Reinforcement;

/// <summary>Starting a run from another run's checkpoint (SFT before RL): its weights, but step 0 and fresh optimizer moments.</summary>
public static class InitialWeights
{
    /// <summary>The checkpoint must be of this very model (its name and parameter layout are checked).</summary>
    public static void Load(Session session, ComputeGraph graph, string path)
    {
        SessionCheckpoint.Load(session, graph, path);
        session.Step = 0;
        session.Parameters.EnsureState(0);    // the next step allocates zeroed moments
    }

    /// <summary>
    /// Every parameter of <paramref name="graph"/> that the checkpoint holds under the same name and
    /// shape (a reward model's trunk from a language model); the others keep their initial values.
    /// Returns the names left as initialised; a checkpoint that shares no parameter is an error.
    /// </summary>
    public static IReadOnlyList<string> LoadShared(Session session, ComputeGraph graph, string path)
    {
        var checkpoint = CheckpointReader.Load(path);
        var byName = checkpoint.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        session.DeclareParameters(graph);
        var fresh = new List<string>();
        foreach (var (name, shape) in SessionCheckpoint.Layout(graph))
        {
            if (byName.TryGetValue(name, out var tensor) && tensor.DType == Graph.Tensors.DType.F32 && tensor.Shape.SequenceEqual(shape))
                session.Parameters.Write(session.Parameters.Get(name).Value, tensor.AsFloats());
            else fresh.Add(name);
        }
        if (fresh.Count == graph.Parameters.Count)
            throw new CheckpointException(path, $"shares no parameter (by name and shape) with model {graph.Name}");
        session.Step = 0;
        session.Parameters.EnsureState(0);
        return fresh;
    }
}
