using Dataflow.Engine.Sessions;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Ir;

namespace Dataflow.Reinforcement;

/// <summary>Starting a run from another model's checkpoint (a reward model from a language model): the weights they share, step 0, fresh optimizer moments. The same model starts through <c>TrainingPlan.FromPath</c>.</summary>
public static class InitialWeights
{
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
