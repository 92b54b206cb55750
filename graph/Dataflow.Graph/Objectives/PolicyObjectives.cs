using Dataflow.Graph.Dsl.Layers;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Objectives;

/// <summary>
/// Graph transforms that turn a loaded model into what reinforcement learning and preference
/// training minimise, by appending inputs, outputs and a new loss (the old loss stays in the graph,
/// unread). A language model's <c>logits</c> f32[B, T, V] and its targets input i32[B, T] (the tokens
/// shifted by one) give <see cref="TokenLogp"/>; a reward model's <c>reward</c> f32[B] (from
/// <c>value_head</c>) gives the Bradley–Terry loss. Pairs are rows of the batch: input
/// <see cref="ChosenRows"/> and <see cref="RejectedRows"/> i32[pairs] name them, so a pair's two
/// sequences share one forward pass.
/// </summary>
public static class PolicyObjectives
{
    public const string Mask = "mask";
    public const string Advantages = "advantages";
    public const string OldLogp = "old_logp";
    public const string RefLogp = "ref_logp";
    public const string ChosenRows = "chosen_rows";
    public const string RejectedRows = "rejected_rows";
    public const string RefChosen = "ref_chosen";
    public const string RefRejected = "ref_rejected";

    /// <summary>Output f32[B, T]: log π(target) where the mask is 1, else 0.</summary>
    public const string TokenLogp = "token_logp";

    /// <summary>Output f32[B]: Σ over T of <see cref="TokenLogp"/>, a completion's log-probability.</summary>
    public const string SequenceLogp = "sequence_logp";

    /// <summary>The symbol of the pair axis: bind it to the number of pairs in a batch.</summary>
    public const string PairsSymbol = "pairs";

    /// <summary>
    /// Adds input <see cref="Mask"/> f32[B, T] (1 where the target is a completion token, 0 on the
    /// prompt and padding) and outputs <see cref="TokenLogp"/> and <see cref="SequenceLogp"/>; returns the token log-probabilities.
    /// </summary>
    public static Node AppendLogProbs(ComputeGraph graph, string logitsOutput, string targetsInput)
    {
        if (graph.Inputs.TryGetValue(Mask, out _)) return graph.Outputs[TokenLogp];
        var logits = graph.Outputs.TryGetValue(logitsOutput, out var l) ? l
            : throw new GraphException($"model {graph.Name} has no output '{logitsOutput}'");
        var targets = graph.Inputs.TryGetValue(targetsInput, out var t) ? t
            : throw new GraphException($"model {graph.Name} has no input '{targetsInput}'");
        var b = new GraphBuilder(graph);
        using var scope = b.Scope("objective");
        var mask = b.Input(Mask, new TensorType(DType.F32, targets.Shape));
        var logp = PolicyLosses.TokenLogProbs(b, logits, targets, mask);
        graph.SetOutput(TokenLogp, logp);
        graph.SetOutput(SequenceLogp, b.ReduceSum(logp, [1]));
        return logp;
    }

    /// <summary>
    /// GRPO: the clipped policy objective over the masked tokens (see <see cref="PolicyLosses.PolicyObjective"/>)
    /// becomes the loss, with inputs <see cref="Advantages"/> f32[B], <see cref="OldLogp"/> f32[B, T] and,
    /// when <paramref name="beta"/> &gt; 0, <see cref="RefLogp"/> f32[B, T].
    /// </summary>
    public static Node AppendGrpo(ComputeGraph graph, string logitsOutput, string targetsInput, double clip, double beta)
    {
        if (!(clip >= 0 && clip < 1)) throw new GraphException($"the clip range must be in [0, 1), got {clip}");
        if (!(beta >= 0)) throw new GraphException($"the KL coefficient must not be negative, got {beta}");
        var logp = AppendLogProbs(graph, logitsOutput, targetsInput);
        var b = new GraphBuilder(graph);
        using var scope = b.Scope("objective");
        var rows = logp.Shape[0];
        var advantages = b.Input(Advantages, new TensorType(DType.F32, Shape.Of(rows)));
        var old = b.Input(OldLogp, logp.Type);
        var reference = beta > 0 ? b.Input(RefLogp, logp.Type) : null;
        var loss = PolicyLosses.PolicyObjective(b, logp, old, advantages, graph.Inputs[Mask], clip, reference, beta);
        return SetLoss(graph, loss);
    }

    /// <summary>
    /// DPO: rows <see cref="ChosenRows"/>[i] and <see cref="RejectedRows"/>[i] are pair i's completions;
    /// inputs <see cref="RefChosen"/>, <see cref="RefRejected"/> f32[pairs] carry the frozen reference's
    /// sequence log-probabilities (cached once, before training). With <paramref name="rpoAlpha"/> &gt; 0
    /// the loss adds α times the chosen completions' per-token NLL (TRL's <c>rpo_alpha</c>, Pang et al.'s
    /// RPO), which holds the chosen replies' likelihood up while DPO pushes the rejected ones down.
    /// </summary>
    public static Node AppendDpo(ComputeGraph graph, string logitsOutput, string targetsInput, double beta, double rpoAlpha = 0)
    {
        if (!(beta > 0)) throw new GraphException($"DPO's beta must be positive, got {beta}");
        if (!(rpoAlpha >= 0) || double.IsInfinity(rpoAlpha)) throw new GraphException($"the RPO weight must be 0 or more, got {rpoAlpha}");
        AppendLogProbs(graph, logitsOutput, targetsInput);
        var b = new GraphBuilder(graph);
        using var scope = b.Scope("objective");
        var (chosen, rejected) = PairRows(b, graph.Outputs[SequenceLogp]);
        var pairs = Shape.Of(Dim.Symbol(PairsSymbol));
        var refChosen = b.Input(RefChosen, new TensorType(DType.F32, pairs));
        var refRejected = b.Input(RefRejected, new TensorType(DType.F32, pairs));
        var loss = PolicyLosses.Dpo(b, chosen, rejected, refChosen, refRejected, beta);
        if (rpoAlpha > 0)
        {
            var (chosenTokens, _) = PairRows(b, b.ReduceSum(graph.Inputs[Mask], [1]));
            loss = b.Add(loss, b.Mul(b.Scalar(rpoAlpha), PolicyLosses.ChosenNll(b, chosen, chosenTokens)));
        }
        return SetLoss(graph, loss);
    }

    /// <summary>The reward model's loss: Bradley–Terry over the pairs of rows, on the model's scalar output <paramref name="rewardOutput"/> f32[B].</summary>
    public static Node AppendBradleyTerry(ComputeGraph graph, string rewardOutput = "reward")
    {
        var reward = graph.Outputs.TryGetValue(rewardOutput, out var r) ? r
            : throw new GraphException($"model {graph.Name} has no output '{rewardOutput}' (declare one with value_head)");
        if (reward.DType != DType.F32 || reward.Shape.Rank != 1)
            throw new GraphException($"model {graph.Name}: output '{rewardOutput}' must be one number per row, f32[B], got {reward.Type}");
        var b = new GraphBuilder(graph);
        using var scope = b.Scope("objective");
        var (chosen, rejected) = PairRows(b, reward);
        return SetLoss(graph, PolicyLosses.BradleyTerry(b, chosen, rejected));
    }

    /// <summary>The per-row values of each pair's chosen and rejected row (gathered, so gradients scatter back to the rows).</summary>
    private static (Node Chosen, Node Rejected) PairRows(GraphBuilder b, Node perRow)
    {
        var index = new TensorType(DType.I32, Shape.Of(Dim.Symbol(PairsSymbol)));
        var chosen = b.Graph.Inputs.TryGetValue(ChosenRows, out var c) ? c : b.Input(ChosenRows, index);
        var rejected = b.Graph.Inputs.TryGetValue(RejectedRows, out var r) ? r : b.Input(RejectedRows, index);
        return (b.Gather(perRow, chosen), b.Gather(perRow, rejected));
    }

    private static Node SetLoss(ComputeGraph graph, Node loss)
    {
        graph.Loss = loss;
        graph.SetOutput("loss", loss);
        return loss;
    }
}
