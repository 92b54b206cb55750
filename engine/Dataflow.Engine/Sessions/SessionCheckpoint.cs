using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Engine.Sessions;

/// <summary>Moves a session's parameters, optimizer state and step to and from a checkpoint file.</summary>
public static class SessionCheckpoint
{
    private static readonly string[] StateSuffixes = ["m", "v"];

    public static string StateName(string parameter, int index, int count) =>
        parameter + "/" + (count == 1 ? "velocity" : StateSuffixes[index]);

    /// <summary>The layout of a graph's parameters: what a checkpoint must match to be loaded into it.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> Layout(ComputeGraph graph) =>
        graph.Parameters.Select(p => (p.Name, p.Node.Shape.ToConcrete())).ToList();

    /// <param name="optimizerState">the moments by parameter when the session holds only its shard of them (ZeRO-1's,
    /// gathered to rank 0 by <see cref="Optim.OptimizerShards.GatherStateToRoot"/>); null: the session's own</param>
    public static void Save(Session session, ComputeGraph graph, string path, IReadOnlyDictionary<string, string> config, byte[] rngState, string? tokenizerJson = null,
        IReadOnlyDictionary<string, float[][]>? optimizerState = null)
    {
        var tensors = new List<NamedTensor>();
        var state = new List<NamedTensor>();
        foreach (var (name, shape) in Layout(graph))
        {
            var slot = session.Parameters.Get(name);
            tensors.Add(NamedTensor.FromFloats(name, shape, session.Parameters.Read(slot.Value, slot.Elements)));
            var moments = optimizerState is null ? slot.State.Select(s => session.Parameters.Read(s, slot.Elements)).ToArray() : optimizerState[name];
            for (int i = 0; i < moments.Length; i++)
                state.Add(NamedTensor.FromFloats(StateName(name, i, moments.Length), shape, moments[i]));
        }
        var header = new CheckpointHeader(
            "dataflow-checkpoint", 1, graph.Name, ParameterLayout.Hash(Layout(graph)), session.Step, DateTimeOffset.UtcNow, config);
        CheckpointWriter.Save(path, new Checkpoint
        {
            Header = header,
            Tensors = tensors,
            OptimizerState = state,
            RngState = rngState,
            TokenizerJson = tokenizerJson,
        });
    }

    /// <summary>Loads a checkpoint into the session after checking it belongs to <paramref name="graph"/>; returns it for its header and RNG state.</summary>
    public static Checkpoint Load(Session session, ComputeGraph graph, string path) =>
        Load(session, graph, path, CheckpointLoadOptions.Default);

    /// <summary>As <see cref="Load(Session, ComputeGraph, string)"/>; <paramref name="options"/> may allow non-finite values.</summary>
    public static Checkpoint Load(Session session, ComputeGraph graph, string path, CheckpointLoadOptions options)
    {
        var checkpoint = CheckpointReader.Load(path, options);
        CheckpointValidator.CheckMatches(checkpoint, path, graph.Name, Layout(graph));
        session.DeclareParameters(graph);
        var byName = checkpoint.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        var stateByName = checkpoint.OptimizerState.ToDictionary(t => t.Name, StringComparer.Ordinal);
        int stateCount = session.Optimizer.StateTensors;
        // Under ZeRO-1 each rank keeps its shard's moments from the file it reads anyway (for the
        // parameters): that is the scatter, with nothing sent.
        session.EnsureOptimizerState();
        foreach (var (name, _) in Layout(graph))
        {
            var slot = session.Parameters.Get(name);
            session.Parameters.Write(slot.Value, byName[name].AsFloats());
            for (int i = 0; i < slot.State.Length; i++)    // a frozen parameter has none
            {
                // A checkpoint from another optimizer (or none) starts the state from zero.
                if (stateByName.TryGetValue(StateName(name, i, stateCount), out var tensor) && tensor.DType == DType.F32)
                    session.Parameters.Write(slot.State[i], tensor.AsFloats());
            }
        }
        session.Step = checkpoint.Header.Step;
        return checkpoint;
    }

    /// <summary>The layout of a graph's base: its parameters without LoRA's adapters, which a base checkpoint lacks.</summary>
    public static IReadOnlyList<(string Name, long[] Shape)> BaseLayout(ComputeGraph graph) =>
        graph.Parameters.Where(p => p.Category != ParamCategory.Adapter).Select(p => (p.Name, p.Node.Shape.ToConcrete())).ToList();

    /// <summary>
    /// Starts the session from a checkpoint's weights (fine-tuning's <c>--from</c>): every base parameter
    /// of <paramref name="graph"/> takes the checkpoint's value, after the usual layout check; adapters
    /// keep their fresh values, the optimizer state stays zero and the step at 0.
    /// </summary>
    public static Checkpoint LoadWeights(Session session, ComputeGraph graph, string path)
    {
        var checkpoint = CheckpointReader.Load(path);
        var layout = BaseLayout(graph);
        CheckpointValidator.CheckMatches(checkpoint, path, graph.Name, layout);
        session.DeclareParameters(graph);
        var byName = checkpoint.Tensors.ToDictionary(t => t.Name, StringComparer.Ordinal);
        foreach (var (name, _) in layout) session.Parameters.Write(session.Parameters.Get(name).Value, byName[name].AsFloats());
        return checkpoint;
    }
}
