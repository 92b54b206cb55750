using Dataflow.Graph.Dsl.Layers;

namespace Dataflow.Conformance.Cases;

/// <summary>
/// The reinforcement-learning and preference losses (graph/Dataflow.Graph/Dsl/Layers/PolicyLosses.cs),
/// forward and with their backward passes: the clipped policy objective with its k3 KL penalty over
/// masked token log-probabilities, the KL estimate itself, Bradley–Terry and DPO over pairs gathered
/// from the rows of a batch, and the value head's read at each row's last position.
/// </summary>
internal static class PolicyLossCases
{
    private const string Group = "policy";

    public static IEnumerable<ConformanceCase> All()
    {
        var list = new List<ConformanceCase>();
        foreach (var backward in new[] { false, true })
        {
            string suffix = backward ? "+backward" : "";
            list.Add(new ConformanceCase($"{Group}/grpo-objective[4,6,7]{suffix}", Group, c =>
            {
                var logits = c.Param("logits", [4, 6, 7], -3, 3);
                var mask = c.Input("mask", [4, 6], MaskValues(c, 24));
                var logp = PolicyLosses.TokenLogProbs(c.B, logits, c.Indices("targets", [4, 6], 0, 7), mask);
                // Old log-probabilities near the current ones (log 1/7 ≈ −1.95), so some ratios clip and some do not.
                var loss = PolicyLosses.PolicyObjective(c.B, logp, c.Input("old", [4, 6], -2.6, -1.3), c.Input("adv", [4], -1.5, 1.5), mask,
                    clip: 0.2, refLogp: c.Input("ref", [4, 6], -2.6, -1.3), beta: 0.04);
                Finish(c, loss, "grpo", backward);
            }));
            list.Add(new ConformanceCase($"{Group}/kl-k3[5,9]{suffix}", Group, c =>
            {
                var kl = PolicyLosses.KlK3(c.B, c.Param("logp", [5, 9], -4, 0), c.Input("ref", [5, 9], -4, 0));
                if (backward) c.OutputWithLoss(kl); else c.Output(kl, "kl");
            }));
            list.Add(new ConformanceCase($"{Group}/bradley-terry[6 of 12]{suffix}", Group, c =>
            {
                var rewards = c.Param("rewards", [12], -3, 3);
                var loss = PolicyLosses.BradleyTerry(c.B, c.B.Gather(rewards, c.Indices("chosen", [6], [0, 2, 4, 6, 8, 10])),
                    c.B.Gather(rewards, c.Indices("rejected", [6], [1, 3, 5, 7, 9, 11])));
                Finish(c, loss, "bt", backward);
            }));
            list.Add(new ConformanceCase($"{Group}/dpo[8]{suffix}", Group, c =>
            {
                var loss = PolicyLosses.Dpo(c.B, c.Param("chosen", [8], -20, -5), c.Param("rejected", [8], -20, -5),
                    c.Input("ref_chosen", [8], -20, -5), c.Input("ref_rejected", [8], -20, -5), beta: 0.1);
                Finish(c, loss, "dpo", backward);
            }));
            list.Add(new ConformanceCase($"{Group}/softplus-extremes[34]{suffix}", Group, c =>
            {
                var y = PolicyLosses.Softplus(c.B, c.Param("x", [34], ExtremeValues));
                if (backward) c.OutputWithLoss(y); else c.Output(y);
            }));
            list.Add(new ConformanceCase($"{Group}/last-position-read[3,5]{suffix}", Group, c =>
            {
                // value_head's read: Σ_t onehot(last, T)·v, one number per row.
                var values = c.Param("values", [3, 5]);
                var y = c.B.ReduceSum(c.B.Mul(c.B.OneHot(c.Indices("last", [3], [4, 0, 2]), Graph.Tensors.Dim.Const(5)), values), [1]);
                if (backward) c.OutputWithLoss(y); else c.Output(y);
            }));
        }
        return list;
    }

    private static void Finish(CaseBuilder c, Graph.Ir.Node loss, string name, bool backward)
    {
        if (backward) c.Graph.Loss = loss;
        else c.Output(loss, name);
    }

    /// <summary>A 0/1 mask with prompt-like leading zeros in some rows.</summary>
    private static float[] MaskValues(CaseBuilder c, int count) => [.. c.Grid(count, 1).Select(v => v > 0 ? 0f : 1f)];

    private static readonly float[] ExtremeValues =
    [
        -1e4f, -1e3f, -200f, -100f, -89f, -88.5f, -88f, -50f, -20f, -9.5f, -3f, -1f, -0.25f, 0f, 0.25f, 1f, 3f,
        9.5f, 20f, 50f, 88f, 88.5f, 89f, 100f, 200f, 1e3f, 1e4f, -7e3f, 7e3f, -0.01f, 0.01f, -1e-4f, 1e-4f, 5f,
    ];
}
