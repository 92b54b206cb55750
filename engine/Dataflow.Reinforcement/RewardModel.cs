using Dataflow.Engine;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl.Layers;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;
using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>
/// A reward model's inputs: the token input i32[B, T] and <c>last</c> i32[B] (which <c>value_head</c>
/// declares), optionally <c>targets</c> i32[B, T] (the tokens shifted left by one, for a model that reads
/// its language-model head's log-probability of each next token), and its output <c>reward</c> f32[B].
/// </summary>
public sealed record RewardModelInputs(string Tokens, string BatchSymbol, string LengthSymbol, string? Targets = null)
{
    public const string RewardOutput = "reward";
    public const string TargetsInput = "targets";

    public static RewardModelInputs Of(ComputeGraph graph)
    {
        if (!graph.Outputs.TryGetValue(RewardOutput, out var reward) || reward.Shape.Rank != 1)
            throw new ConfigurationException($"model {graph.Name}: a reward model needs an output '{RewardOutput}' f32[B] (declare it with value_head)");
        var tokens = graph.Inputs.Values.Where(n => n.DType == DType.I32 && n.Shape.Rank == 2 && n.Attrs.Name != TargetsInput).ToList();
        if (tokens.Count != 1 || !graph.Inputs.ContainsKey(ValueHead.LastInput))
            throw new ConfigurationException($"model {graph.Name}: a reward model needs one i32[B, T] token input and value_head's '{ValueHead.LastInput}'");
        string Symbol(int axis) => tokens[0].Shape[axis].FreeSymbols.Single();
        return new RewardModelInputs(tokens[0].Attrs.Name!, Symbol(0), Symbol(1), graph.Inputs.ContainsKey(TargetsInput) ? TargetsInput : null);
    }

    /// <summary>The rows packed (<see cref="Pack"/>) as the model's inputs: tokens, last, and the targets where the model declares them.</summary>
    public Dictionary<string, Array> Feed(IReadOnlyList<(int[] Prompt, int[] Completion)> sequences, int length)
    {
        var (tokens, last) = Pack(sequences, length);
        var feed = new Dictionary<string, Array>(StringComparer.Ordinal) { [Tokens] = tokens, [ValueHead.LastInput] = last };
        if (Targets is not null) feed[Targets] = ShiftedLeft(tokens, length);
        return feed;
    }

    /// <summary>Each row's tokens moved one position left (what each position predicts), its last position 0.</summary>
    public static int[] ShiftedLeft(int[] tokens, int length)
    {
        var targets = new int[tokens.Length];
        for (int r = 0; r < tokens.Length / length; r++)
            Array.Copy(tokens, r * length + 1, targets, r * length, length - 1);
        return targets;
    }

    public Dictionary<string, long> Bindings(long batch, long length) => new() { [BatchSymbol] = batch, [LengthSymbol] = length };

    /// <summary>Prompt-plus-completion rows as the reward model reads them: the tokens (cut to the length, padded with 0) and each row's last position.</summary>
    public static (int[] Tokens, int[] Last) Pack(IReadOnlyList<(int[] Prompt, int[] Completion)> sequences, int length)
    {
        var (tokens, last) = (new int[sequences.Count * length], new int[sequences.Count]);
        for (int r = 0; r < sequences.Count; r++)
        {
            var (prompt, completion) = sequences[r];
            int n = Math.Min(prompt.Length + completion.Length, length);
            for (int t = 0; t < n; t++) tokens[r * length + t] = t < prompt.Length ? prompt[t] : completion[t - prompt.Length];
            last[r] = Math.Max(0, n - 1);
        }
        return (tokens, last);
    }
}

/// <summary>
/// A trained reward model on a session: the reward of prompt-plus-completion sequences, in batches
/// of a fixed size (one compiled graph), and the same as a GRPO <see cref="BatchRewardFunction"/>, so a
/// reward model can stand in for a verifier.
/// </summary>
public sealed class RewardModelScorer : IDisposable
{
    private readonly Session _session;
    private readonly StepGraph _graph;
    private readonly RewardModelInputs _inputs;
    private readonly int _length, _batch;
    private readonly bool _owns;

    public RewardModelScorer(Session session, LanguageModelConfig config, int batch = 16, bool ownsSession = false)
    {
        var graph = config.Load(training: false).Graph;
        (_session, _inputs, _length, _batch, _owns) = (session, RewardModelInputs.Of(graph), config.Context, batch, ownsSession);
        _graph = StepGraph.ForwardOnly(graph, includeLoss: false);
    }

    /// <summary>Opens a reward model's checkpoint on <paramref name="backend"/> (which the scorer disposes).</summary>
    public static RewardModelScorer Open(string checkpointPath, IBackend backend, int batch = 16)
    {
        var checkpoint = Graph.Checkpoints.CheckpointReader.Load(checkpointPath);
        var config = LanguageModelConfig.FromCheckpoint(checkpoint.Header, checkpointPath);
        try { RewardModelInputs.Of(config.Load(training: false).Graph); }
        catch (ConfigurationException e) { throw new Graph.Checkpoints.CheckpointException(checkpointPath, $"not a reward model: {e.Message}"); }
        var session = new Session(backend, seed: 1);
        try
        {
            SessionCheckpoint.Load(session, config.Load(training: false).Graph, checkpointPath);
            return new RewardModelScorer(session, config, batch, ownsSession: true);
        }
        catch
        {
            session.Dispose();
            throw;
        }
    }

    public double[] Score(IReadOnlyList<(int[] Prompt, int[] Completion)> sequences)
    {
        var compiled = _session.Compile(_graph, _inputs.Bindings(_batch, _length));
        var scores = new double[sequences.Count];
        for (int start = 0; start < sequences.Count; start += _batch)
        {
            var chunk = Enumerable.Range(start, _batch).Select(i => sequences[Math.Min(i, sequences.Count - 1)]).ToList();
            var rewards = _session.Run(compiled, _inputs.Feed(chunk, _length), [RewardModelInputs.RewardOutput]).Results[RewardModelInputs.RewardOutput];
            for (int i = 0; i < _batch && start + i < sequences.Count; i++) scores[start + i] = rewards[i];
        }
        return scores;
    }

    /// <summary>
    /// The reward model as GRPO's reward, a whole rollout scored in batches: prompt <c>i</c> is
    /// <paramref name="prompts"/>[i], the completion what the policy trains on (its stop token included,
    /// as the pairs the reward model learnt from end with it).
    /// </summary>
    public BatchRewardFunction AsReward(IReadOnlyList<int[]> prompts, RolloutOptions options) =>
        (ids, completions) => Score([.. completions.Select((c, r) => (prompts[ids[r]], PolicyRollouts.TrainedTokens(c, options)))]);

    public void Dispose()
    {
        if (_owns) _session.Dispose();
    }
}
