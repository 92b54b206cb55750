using Dataflow.Graph.Dsl;
using Dataflow.Graph.Objectives;
using Dataflow.Tests.Autodiff;

namespace Dataflow.Tests.Reinforcement;

/// <summary>
/// Finite-difference checks of the new losses through the model language: the clipped policy
/// objective with its KL penalty, DPO and the reward model's Bradley–Terry loss on a value head.
/// </summary>
public sealed class PolicyLossGradientTests
{
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 2, ["T"] = 3, [PolicyObjectives.PairsSymbol] = 1 };

    private static void Check(string body, IReadOnlyDictionary<string, Array> inputs, Action<Graph.Ir.ComputeGraph>? append = null)
    {
        var graph = ModelLoader.LoadSource("snippet.dfg", "model snippet(d = 4, vocab = 5)\n" + body, new ModelOptions(Training: true)).Graph;
        append?.Invoke(graph);
        FiniteDifference.Check(graph, new Dictionary<string, float[]>(), inputs, Sizes, maxCoordinatesPerParameter: 20);
    }

    private static int[] Tokens(int seed, int count) => [.. Enumerable.Range(0, count).Select(i => new Random(seed + i).Next(5))];

    [Fact]
    public void ClippedPolicyObjectiveWithKlPenalty() => Check(
        "input x : f32[B, T, d]\ninput targets : i32[B, T]\ninput mask : f32[B, T]\ninput adv : f32[B]\ninput old : f32[B, T]\ninput ref : f32[B, T]\n" +
        "logp = token_logprobs(linear(x, vocab), targets, mask)\nloss = policy_loss(logp, old, adv, mask, clip = 0.2, ref_logp = ref, beta = 0.3)\n",
        new Dictionary<string, Array>
        {
            ["x"] = TestGraphs.RandomValues(1, 24), ["targets"] = Tokens(2, 6), ["mask"] = new float[] { 0, 1, 1, 0, 1, 0 },
            ["adv"] = new float[] { 1.3f, -0.7f }, ["old"] = TestGraphs.RandomValues(3, 6, -2.2, -1.0), ["ref"] = TestGraphs.RandomValues(4, 6, -2.5, -1.0),
        });

    [Fact]
    public void DirectPreferenceOptimisation() => Check(
        "input tokens : i32[B, T]\ninput targets : i32[B, T]\nwte = embedding(vocab, d)\nlogits = unembed(tanh(linear(wte(tokens), d)), tied = wte)\noutput logits\n" +
        "loss = cross_entropy(logits, targets)\n",
        new Dictionary<string, Array>
        {
            ["tokens"] = Tokens(5, 6), ["targets"] = Tokens(6, 6), [PolicyObjectives.Mask] = new float[] { 0, 1, 1, 0, 1, 1 },
            [PolicyObjectives.ChosenRows] = new[] { 0 }, [PolicyObjectives.RejectedRows] = new[] { 1 },
            [PolicyObjectives.RefChosen] = new float[] { -3.1f }, [PolicyObjectives.RefRejected] = new float[] { -3.4f },
        },
        graph => PolicyObjectives.AppendDpo(graph, "logits", "targets", beta: 0.5));

    /// <summary>DPO with RPO's NLL on the chosen rows (TRL's rpo_alpha): the mask's token counts divide the chosen log-probability.</summary>
    [Fact]
    public void DpoWithTheRpoTermOnTheChosenReplies() => Check(
        "input tokens : i32[B, T]\ninput targets : i32[B, T]\nwte = embedding(vocab, d)\nlogits = unembed(tanh(linear(wte(tokens), d)), tied = wte)\noutput logits\n" +
        "loss = cross_entropy(logits, targets)\n",
        new Dictionary<string, Array>
        {
            ["tokens"] = Tokens(5, 6), ["targets"] = Tokens(6, 6), [PolicyObjectives.Mask] = new float[] { 0, 1, 1, 0, 0, 1 },
            [PolicyObjectives.ChosenRows] = new[] { 0 }, [PolicyObjectives.RejectedRows] = new[] { 1 },
            [PolicyObjectives.RefChosen] = new float[] { -3.1f }, [PolicyObjectives.RefRejected] = new float[] { -3.4f },
        },
        graph => PolicyObjectives.AppendDpo(graph, "logits", "targets", beta: 0.5, rpoAlpha: 0.7));

    [Fact]
    public void BradleyTerryOnAValueHead() => Check(
        "input tokens : i32[B, T]\nwte = embedding(vocab, d)\nreward = value_head(tanh(linear(wte(tokens), d)), std = 0.5)\noutput reward\n",
        new Dictionary<string, Array>
        {
            ["tokens"] = Tokens(7, 6), ["last"] = new[] { 2, 1 },
            [PolicyObjectives.ChosenRows] = new[] { 1 }, [PolicyObjectives.RejectedRows] = new[] { 0 },
        },
        graph => PolicyObjectives.AppendBradleyTerry(graph));

    [Fact]
    public void BradleyTerryOnASummedValueHead() => Check(
        "input tokens : i32[B, T]\nwte = embedding(vocab, d)\nreward = value_head(tanh(linear(wte(tokens), d)), std = 0.5, pool = sum)\noutput reward\n",
        new Dictionary<string, Array>
        {
            ["tokens"] = Tokens(8, 6), ["last"] = new[] { 2, 1 },
            [PolicyObjectives.ChosenRows] = new[] { 1 }, [PolicyObjectives.RejectedRows] = new[] { 0 },
        },
        graph => PolicyObjectives.AppendBradleyTerry(graph));
}
