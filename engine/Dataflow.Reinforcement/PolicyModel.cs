using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Objectives;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>
/// A language model as a policy: its config (which lowers it again for training, scoring and decode
/// mode, all sharing one session's parameters by name), its inputs, and the context its rows fill.
/// </summary>
public sealed class PolicyModel(LanguageModelConfig config)
{
    public LanguageModelConfig Config { get; } = config;
    public int Context => Config.Context;

    /// <summary>The model as trained, with <paramref name="append"/> (an objective of <see cref="PolicyObjectives"/>) as its loss.</summary>
    public LoadedModel Training(Action<Graph.Ir.ComputeGraph, LanguageModelInputs> append)
    {
        var model = Config.Load(training: true);
        append(model.Graph, LanguageModelInputs.Of(model.Graph));
        return model;
    }

    /// <summary>A dropout-free lowering that outputs the masked token log-probabilities, for scoring sequences.</summary>
    public (StepGraph Graph, LanguageModelInputs Inputs) Scoring()
    {
        var graph = Config.Load(training: false).Graph;
        var inputs = LanguageModelInputs.Of(graph);
        PolicyObjectives.AppendLogProbs(graph, inputs.Logits, inputs.Targets);
        return (StepGraph.ForwardOnly(graph, includeLoss: false), inputs);
    }
}

/// <summary>Log-probabilities of packed sequences under a session's current parameters (one compiled graph per row count).</summary>
public sealed class PolicyScorer(Session session, PolicyModel policy)
{
    private readonly (StepGraph Graph, LanguageModelInputs Inputs) _scoring = policy.Scoring();

    /// <summary>The scoring graph (its parameters are the policy's).</summary>
    public Graph.Ir.ComputeGraph Graph => _scoring.Graph.Graph;

    /// <summary>f32[rows, length]: log π(target) at each masked position, 0 elsewhere.</summary>
    public float[] TokenLogProbs(SequenceRows rows)
    {
        var (graph, inputs) = _scoring;
        var compiled = session.Compile(graph, inputs.Bindings(rows.Rows, rows.Length));
        var feed = new Dictionary<string, Array>(StringComparer.Ordinal)
        {
            [inputs.Tokens] = rows.Tokens, [inputs.Targets] = rows.Targets, [PolicyObjectives.Mask] = rows.Mask,
        };
        return session.Run(compiled, feed, [PolicyObjectives.TokenLogp]).Results[PolicyObjectives.TokenLogp];
    }

    /// <summary>Each row's completion log-probability (Σ over its masked positions).</summary>
    public double[] SequenceLogProbs(SequenceRows rows)
    {
        var perToken = TokenLogProbs(rows);
        return [.. Enumerable.Range(0, rows.Rows).Select(r => rows.MaskedSum(perToken, r))];
    }
}
