using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// The pieces of reinforcement learning and preference training, composed from primitives so that
/// autodiff and fusion see only catalog ops: per-token log-probabilities of given tokens, the
/// clipped policy objective (TRL's GRPO), the k3 KL estimate, the Bradley–Terry and DPO losses.
/// </summary>
public static class PolicyLosses
{
    public static IEnumerable<LayerDef> All =>
    [
        new("token_logprobs", ["logits", "targets", "mask?"], (a, c) =>
            new TensorValue(TokenLogProbs(c.Builder, a.Tensor("logits"), a.Tensor("targets"), a.OptionalTensor("mask")))),
        new("kl_k3", ["logp", "ref_logp"], (a, c) => new TensorValue(KlK3(c.Builder, a.Tensor("logp"), a.Tensor("ref_logp")))),
        new("policy_loss", ["logp", "old_logp", "advantages", "mask", "clip?", "ref_logp?", "beta?"], (a, c) =>
        {
            var clip = a.Number("clip", 0.2);
            if (!(clip >= 0 && clip < 1)) throw a.Error("clip", $"clip must be in [0, 1), got {clip}");
            var beta = a.Number("beta", 0);
            if (!(beta >= 0)) throw a.Error("beta", $"beta must not be negative, got {beta}");
            var reference = a.OptionalTensor("ref_logp");
            if (beta > 0 && reference is null) throw a.Error("beta", "beta > 0 needs ref_logp (the reference policy's log-probabilities)");
            return new TensorValue(PolicyObjective(c.Builder, a.Tensor("logp"), a.Tensor("old_logp"), a.Tensor("advantages"), a.Tensor("mask"), clip, reference, beta));
        }),
        new("bradley_terry", ["chosen", "rejected"], (a, c) =>
            new TensorValue(BradleyTerry(c.Builder, a.Tensor("chosen"), a.Tensor("rejected")))),
        new("dpo_loss", ["chosen", "rejected", "ref_chosen", "ref_rejected", "beta?"], (a, c) =>
        {
            var beta = a.Number("beta", 0.1);
            if (!(beta > 0)) throw a.Error("beta", $"beta must be positive, got {beta}");
            return new TensorValue(Dpo(c.Builder, a.Tensor("chosen"), a.Tensor("rejected"), a.Tensor("ref_chosen"), a.Tensor("ref_rejected"), beta));
        }),
    ];

    /// <summary>
    /// log softmax(logits)[…, targets[…]] for each position: f32[B, T] from logits f32[B, T, V] and
    /// targets i32[B, T]; times <paramref name="mask"/> (f32[B, T], 0 on prompt and padding) when given.
    /// </summary>
    public static Node TokenLogProbs(GraphBuilder b, Node logits, Node targets, Node? mask = null)
    {
        if (logits.DType != DType.F32 || logits.Shape.Rank < 1 || !logits.Shape.At(-1).IsConstant)
            throw new ShapeException($"token_logprobs: logits must be f32[..., V] with a fixed V, got {logits.Type}");
        var positions = new Shape(logits.Shape.Dims[..^1]);
        if (targets.DType != DType.I32 || !targets.Shape.Equals(positions))
            throw new ShapeException($"token_logprobs: targets must be i32{positions} to match logits {logits.Type}, got {targets.Type}");
        var picked = b.ReduceSum(b.Mul(b.OneHot(targets, logits.Shape.At(-1)), Softmax.Log(b, logits, -1)), [-1]);
        if (mask is null) return picked;
        RequireSame("token_logprobs", "mask", mask, picked);
        return b.Mul(picked, mask);
    }

    /// <summary>The k3 estimate of KL(π ‖ π_ref) per token (Schulman): e^(ref − logp) − (ref − logp) − 1 ≥ 0, zero where they agree.</summary>
    public static Node KlK3(GraphBuilder b, Node logp, Node refLogp)
    {
        RequireSame("kl_k3", "ref_logp", refLogp, logp);
        var d = b.Sub(refLogp, logp);
        return b.Sub(b.Sub(b.Exp(d), d), b.Scalar(1));
    }

    /// <summary>
    /// TRL's GRPO loss, token-level: with ratio = e^(logp − old_logp) and A the advantage of the
    /// token's sequence, −Σ mask·(min(ratio·A, clip(ratio, 1 − ε, 1 + ε)·A) − β·k3) / Σ mask.
    /// <paramref name="advantages"/> is per sequence (f32[B] for logp f32[B, T]) or per token. Masked
    /// positions contribute nothing, and a batch with no unmasked token gives 0 rather than 0/0.
    /// </summary>
    public static Node PolicyObjective(GraphBuilder b, Node logp, Node oldLogp, Node advantages, Node mask, double clip, Node? refLogp = null, double beta = 0)
    {
        RequireSame("policy_loss", "old_logp", oldLogp, logp);
        RequireSame("policy_loss", "mask", mask, logp);
        if (advantages.DType != DType.F32) throw new ShapeException($"policy_loss: advantages must be f32, got {advantages.Type}");
        if (advantages.Shape.Rank == logp.Shape.Rank - 1 && advantages.Shape.Equals(new Shape(logp.Shape.Dims[..^1])))
            advantages = b.Reshape(advantages, new Shape(advantages.Shape.Dims.Add(Dim.Const(1))));
        else if (!advantages.Shape.Equals(logp.Shape))
            throw new ShapeException($"policy_loss: advantages {advantages.Type} must be one per sequence (f32{new Shape(logp.Shape.Dims[..^1])}) or one per token (f32{logp.Shape})");

        var ratio = b.Exp(b.Sub(logp, oldLogp));
        var clipped = Min(b, b.Max(ratio, b.Scalar(1 - clip)), b.Scalar(1 + clip));
        var objective = Min(b, b.Mul(ratio, advantages), b.Mul(clipped, advantages));
        var perToken = b.Neg(objective);
        if (refLogp is not null && beta > 0) perToken = b.Add(perToken, b.Mul(b.Scalar(beta), KlK3(b, logp, refLogp)));
        return MaskedMean(b, perToken, mask);
    }

    /// <summary>Σ mask·x / max(Σ mask, 1) over every axis: the token-level mean of the masked positions.</summary>
    public static Node MaskedMean(GraphBuilder b, Node x, Node mask)
    {
        var axes = Enumerable.Range(0, x.Shape.Rank).ToArray();
        Node Sum(Node v) => axes.Length == 0 ? v : b.ReduceSum(v, axes);
        return b.Div(Sum(b.Mul(x, mask)), b.Max(Sum(mask), b.Scalar(1)));
    }

    /// <summary>The reward model's loss: the mean of −log σ(r⁺ − r⁻) over pairs.</summary>
    public static Node BradleyTerry(GraphBuilder b, Node chosen, Node rejected)
    {
        RequireSame("bradley_terry", "rejected", rejected, chosen);
        return Mean(b, Softplus(b, b.Sub(rejected, chosen)));
    }

    /// <summary>DPO: the mean of −log σ(β·[(π⁺ − ref⁺) − (π⁻ − ref⁻)]) over pairs, each term a sequence's log-probability.</summary>
    public static Node Dpo(GraphBuilder b, Node chosen, Node rejected, Node refChosen, Node refRejected, double beta)
    {
        RequireSame("dpo_loss", "rejected", rejected, chosen);
        RequireSame("dpo_loss", "ref_chosen", refChosen, chosen);
        RequireSame("dpo_loss", "ref_rejected", refRejected, chosen);
        var margin = b.Sub(b.Sub(chosen, refChosen), b.Sub(rejected, refRejected));
        return Mean(b, Softplus(b, b.Neg(b.Mul(b.Scalar(beta), margin))));
    }

    /// <summary>
    /// RPO's NLL term: −Σ log π(chosen) / Σ chosen tokens, the per-token negative log-likelihood of the
    /// chosen completions over the batch (TRL's token-level mean), from their sequence log-probabilities
    /// f32[pairs] and token counts f32[pairs] (at least one token in all, so an empty batch is not 0/0).
    /// </summary>
    public static Node ChosenNll(GraphBuilder b, Node chosenLogp, Node chosenTokens)
    {
        RequireSame("rpo_nll", "chosen_tokens", chosenTokens, chosenLogp);
        var axes = Enumerable.Range(0, chosenLogp.Shape.Rank).ToArray();
        return b.Neg(b.Div(b.ReduceSum(chosenLogp, axes), b.Max(b.ReduceSum(chosenTokens, axes), b.Scalar(1))));
    }

    /// <summary>
    /// softplus(x) = log(1 + eˣ) = −log σ(−x), as max(x, 0) + log(1 + e^−|x|): e^−|x| ≤ 1 never
    /// overflows, so both passes stay finite for any finite x (log 2 at 0).
    /// </summary>
    public static Node Softplus(GraphBuilder b, Node x)
    {
        var abs = b.Max(x, b.Neg(x));
        return b.Add(b.Max(x, b.Scalar(0)), b.Log(b.Add(b.Scalar(1), b.Exp(b.Neg(abs)))));
    }

    /// <summary>min(a, b) = −max(−a, −b); ties send the gradient to <paramref name="x"/>, as max does.</summary>
    public static Node Min(GraphBuilder b, Node x, Node y) => b.Neg(b.Max(b.Neg(x), b.Neg(y)));

    private static Node Mean(GraphBuilder b, Node x) => x.Shape.Rank == 0 ? x : b.ReduceMean(x, Enumerable.Range(0, x.Shape.Rank));

    private static void RequireSame(string layer, string what, Node x, Node like)
    {
        if (x.DType != DType.F32 || !x.Shape.Equals(like.Shape))
            throw new ShapeException($"{layer}: {what} must be f32{like.Shape}, got {x.Type}");
    }
}
