using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;

namespace Dataflow.Tests.Autodiff;

/// <summary>
/// Finite-difference checks of every layer of the model language, through the real lowering:
/// each snippet is a .dfg model whose output y gets the loss Σ y·R (R fixed and random), or whose
/// own loss is used, and every parameter's gradient is compared with central differences.
/// </summary>
public sealed class LayerGradientCheckTests
{
    private static readonly Dictionary<string, long> Sizes = new() { ["B"] = 2, ["T"] = 3, ["S"] = 4 };

    private static void Check(string body, IReadOnlyDictionary<string, Array> inputs, bool modelLoss = false, int maxCoordinates = 12)
    {
        var source = "model snippet(d = 8, heads = 2, vocab = 11)\n" + body;
        var graph = ModelLoader.LoadSource("snippet.dfg", source, new ModelOptions(Training: true)).Graph;
        if (!modelLoss)
        {
            var b = new GraphBuilder(graph);
            var y = graph.Outputs["y"];
            // R is fed as an input because y's shape is symbolic ([B, T, …]).
            var weights = b.Input("loss_weights", y.Type);
            graph.Loss = b.ReduceSum(b.Mul(y, weights), Enumerable.Range(0, y.Shape.Rank));
            var count = y.Shape.Evaluate(Sizes).Aggregate(1L, (a, c) => a * c);
            inputs = new Dictionary<string, Array>(inputs) { ["loss_weights"] = TestGraphs.RandomValues(42, count) };
        }
        FiniteDifference.Check(graph, new Dictionary<string, float[]>(), inputs, Sizes, maxCoordinates);
    }

    private static Dictionary<string, Array> Features(string name = "x", int width = 8, string length = "T") => new()
    {
        [name] = TestGraphs.RandomValues(7, 2 * Sizes[length] * width),
    };

    private static int[] Tokens(int seed, long count, int vocab = 11)
    {
        var random = new Random(seed);
        return Enumerable.Range(0, (int)count).Select(_ => random.Next(vocab)).ToArray();
    }

    [Fact]
    public void Linear() => Check("input x : f32[B, T, 8]\ny = linear(x, 5)\noutput y\n", Features());

    [Fact]
    public void Gelu() => Check("input x : f32[B, T, 8]\ny = gelu(linear(x, 5))\noutput y\n", Features());

    [Fact]
    public void SigmoidAndTanh() => Check("input x : f32[B, T, 8]\ny = sigmoid(linear(x, 5)) * tanh(linear(x, 5))\noutput y\n", Features());

    [Fact]
    public void LayerNorm() => Check("input x : f32[B, T, 8]\ny = layernorm(linear(x, d))\noutput y\n", Features());

    [Fact]
    public void RmsNorm() => Check("input x : f32[B, T, 8]\ny = rms_norm(linear(x, d))\noutput y\n", Features());

    [Fact]
    public void Silu() => Check("input x : f32[B, T, 8]\ny = silu(linear(x, 5))\noutput y\n", Features());

    [Fact]
    public void GatedFeedForwardBlockWithResidual() =>
        Check("input x : f32[B, T, 8]\ny = x + gated_mlp(rms_norm(x), 16)\noutput y\n", Features());

    [Fact]
    public void SoftmaxWithTemperature() => Check("input x : f32[B, T, 8]\ny = softmax(linear(x, 5), temperature = 0.7)\noutput y\n", Features());

    [Fact]
    public void EmbeddingScatterAddsIntoTheTable() => Check(
        "input tokens : i32[B, T]\nwte = embedding(vocab, d)\ny = wte(tokens)\noutput y\n",
        new Dictionary<string, Array> { ["tokens"] = new[] { 1, 4, 1, 9, 4, 4 } });

    [Fact]
    public void LearnedPositions() => Check(
        "input x : f32[B, T, 8]\ny = linear(x, d) + positions(learned, 5, d)\noutput y\n", Features());

    [Fact]
    public void SinusoidalPositions() => Check(
        "input x : f32[B, T, 8]\ny = tanh(linear(x, d) + positions(sinusoidal, 5, d))\noutput y\n", Features());

    [Fact]
    public void CausalSelfAttention() => Check("input x : f32[B, T, 8]\ny = attention(x, heads, causal = true)\noutput y\n", Features());

    [Fact]
    public void BidirectionalSelfAttention() => Check("input x : f32[B, T, 8]\ny = attention(x, heads)\noutput y\n", Features());

    [Fact]
    public void CrossAttention()
    {
        var inputs = Features();
        inputs["memory"] = TestGraphs.RandomValues(8, 2 * Sizes["S"] * 8);
        Check("input x : f32[B, T, 8]\ninput memory : f32[B, S, 8]\ny = attention(x, heads, context = memory)\noutput y\n", inputs);
    }

    [Fact]
    public void FeedForwardBlockWithResidual() => Check("input x : f32[B, T, 8]\ny = x + mlp(layernorm(x), 16, act = gelu)\noutput y\n", Features());

    [Fact]
    public void DropoutUsesTheSameMaskForwardAndBackward() => Check("input x : f32[B, T, 8]\ny = dropout(linear(x, 5), 0.3)\noutput y\n", Features());

    [Fact]
    public void CrossEntropyWithLabelSmoothingAndTiedUnembedding() => Check(
        "input tokens : i32[B, T]\ninput targets : i32[B, T]\nwte = embedding(vocab, d)\n" +
        "logits = unembed(layernorm(wte(tokens)), tied = wte)\noutput logits\nloss = cross_entropy(logits, targets, label_smoothing = 0.1)\n",
        new Dictionary<string, Array> { ["tokens"] = Tokens(1, 6), ["targets"] = Tokens(2, 6) },
        modelLoss: true);

    [Fact]
    public void MeanSquaredError() => Check(
        "input x : f32[B, T, 8]\ninput target : f32[B, T, 5]\ny = linear(x, 5)\noutput y\nloss = mse(y, target)\n",
        new Dictionary<string, Array> { ["x"] = TestGraphs.RandomValues(3, 48), ["target"] = TestGraphs.RandomValues(4, 30) },
        modelLoss: true);
}
