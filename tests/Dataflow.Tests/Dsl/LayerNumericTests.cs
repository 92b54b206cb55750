using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;

namespace Dataflow.Tests.Dsl;

/// <summary>What the lowered layers compute, checked with <see cref="FloatReference"/> against hand-written formulas.</summary>
public class LayerNumericTests
{
    private static readonly Dictionary<string, long> Dims = new() { ["B"] = 2, ["T"] = 3, ["S"] = 4 };

    private static readonly float[] X = Enumerable.Range(0, 2 * 3 * 4).Select(i => MathF.Sin(i * 1.7f) * 2).ToArray();   // [B, T, 4]
    private static readonly float[] Idx = [0, 3, 1, 2, 2, 0];                                                               // [B, T]

    private static (LoadedModel Model, FloatReference Eval) Run(string body)
    {
        var model = ModelLoader.LoadSource("n.dfg", "model m(d = 4, heads = 2)\ninput x : f32[B, T, 4]\ninput idx : i32[B, T]\n" + body,
            new ModelOptions(Training: false));
        return (model, new FloatReference(Dims, new Dictionary<string, float[]> { ["x"] = X, ["idx"] = Idx }));
    }

    private static FloatReference.Tensor Output(string body, string name = "y")
    {
        var (m, e) = Run(body + $"\noutput {name}\n");
        return e.Run(m.Graph.Outputs[name]);
    }

    private static float[] Row(int b, int t) => X.Skip((b * 3 + t) * 4).Take(4).ToArray();

    [Fact]
    public void Elementwise_activations_match_their_formulas()
    {
        float v = X[5];
        Assert.Equal(Math.Max(v, 0), Output("y = relu(x)").Data[5], 6);
        Assert.Equal(1 / (1 + Math.Exp(-v)), Output("y = sigmoid(x)").Data[5], 6);
        Assert.Equal(0.5 * v * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (v + 0.044715 * v * v * v))), Output("y = gelu(x)").Data[5], 5);
    }

    [Fact]
    public void Silu_is_x_times_sigmoid()
    {
        var y = Output("y = silu(x)");
        for (int i = 0; i < X.Length; i++) Assert.Equal(X[i] / (1 + Math.Exp(-X[i])), y.Data[i], 1e-6);
    }

    [Fact]
    public void Rms_norm_divides_by_the_root_mean_square_of_the_row()
    {
        var y = Output("y = rms_norm(x, eps = 0.01)");
        var row = Row(1, 1);
        var rms = Math.Sqrt(row.Average(v => (double)v * v) + 0.01);
        for (int c = 0; c < 4; c++) Assert.Equal(row[c] / rms, y[1, 1, c], 5);
    }

    [Fact]
    public void Gated_mlp_is_down_of_silu_gate_times_up()
    {
        var (m, e) = Run("y = gated_mlp(x, 3)\noutput y\n");
        Assert.Equal(["y.down.weight", "y.gate.weight", "y.up.weight"], m.Graph.Parameters.Select(p => p.Node.Attrs.Name!).Order());
        float[] gate = [0.5f, -1, 0, 1, 2, 0, 0, -0.5f, 1, 0, 0.25f, 1], up = [1, 0, 1, 0, 1, 0, 1, 0, 1, -1, 1, 2];  // [4, 3]
        float[] down = [1, 0, 0, 2, 1, -1, 0, 1, 3, -1, 0, 1];                                                          // [3, 4]
        e.Parameters["y.gate.weight"] = gate;
        e.Parameters["y.up.weight"] = up;
        e.Parameters["y.down.weight"] = down;
        var y = e.Run(m.Graph.Outputs["y"]);
        var row = Row(0, 2);
        var h = new double[3];
        for (int j = 0; j < 3; j++)
        {
            double g = 0, u = 0;
            for (int k = 0; k < 4; k++) { g += row[k] * gate[k * 3 + j]; u += row[k] * up[k * 3 + j]; }
            h[j] = g / (1 + Math.Exp(-g)) * u;
        }
        for (int c = 0; c < 4; c++) Assert.Equal(Enumerable.Range(0, 3).Sum(j => h[j] * down[j * 4 + c]), y[0, 2, c], 4);
    }

    [Fact]
    public void Softmax_and_log_softmax_match_the_definition()
    {
        var y = Output("y = softmax(x, temperature = 2)");
        var row = Row(1, 2).Select(v => Math.Exp(v / 2)).ToArray();
        for (int c = 0; c < 4; c++) Assert.Equal(row[c] / row.Sum(), y[1, 2, c], 6);
        var logY = Output("y = log_softmax(x)");
        var raw = Row(0, 1);
        var logSum = Math.Log(raw.Sum(v => Math.Exp(v)));
        for (int c = 0; c < 4; c++) Assert.Equal(raw[c] - logSum, logY[0, 1, c], 5);
    }

    [Fact]
    public void Cross_entropy_with_label_smoothing_matches_the_definition()
    {
        var loss = Output("loss = cross_entropy(x, idx, label_smoothing = 0.1)", "loss").Data[0];
        double expected = 0;
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 3; t++)
            {
                var row = Row(b, t);
                var logSum = Math.Log(row.Sum(v => Math.Exp(v)));
                for (int c = 0; c < 4; c++)
                {
                    double q = 0.9 * (Idx[b * 3 + t] == c ? 1 : 0) + 0.1 / 4;
                    expected -= q * (row[c] - logSum);
                }
            }
        Assert.Equal(expected / 6, loss, 5);
    }

    [Fact]
    public void Mse_is_the_mean_square_over_all_elements()
    {
        var loss = Output("loss = mse(x, one_hot(idx, 4))", "loss").Data[0];
        double expected = 0;
        for (int i = 0; i < X.Length; i++) expected += Math.Pow(X[i] - (Idx[i / 4] == i % 4 ? 1 : 0), 2);
        Assert.Equal(expected / X.Length, loss, 5);
    }

    [Fact]
    public void Layernorm_gives_zero_mean_unit_variance_rows()
    {
        var y = Output("y = layernorm(x)");
        for (int r = 0; r < 6; r++)
        {
            var row = y.Data.Skip(r * 4).Take(4).ToArray();
            Assert.Equal(0, row.Average(), 5);
            Assert.Equal(1, row.Average(v => v * v), 3);
        }
    }

    [Fact]
    public void Sinusoidal_positions_interleave_sines_and_cosines()
    {
        var p = Output("y = positions(sinusoidal, 16, 4, length = 5)");
        for (int pos = 0; pos < 5; pos++)
            for (int i = 0; i < 4; i++)
            {
                double angle = pos / Math.Pow(10000, 2.0 * (i / 2) / 4);
                Assert.Equal(i % 2 == 0 ? Math.Sin(angle) : Math.Cos(angle), p[pos, i], 5);
            }
    }

    [Fact]
    public void Linear_computes_x_times_weight_plus_bias()
    {
        var (m, e) = Run("y = linear(x, 2)\noutput y\n");
        e.Parameters["y.weight"] = [1, 0, 0, 1, 2, 0, 0, -1];   // [4, 2]
        e.Parameters["y.bias"] = [10, 20];
        var y = e.Run(m.Graph.Outputs["y"]);
        var row = Row(1, 0);
        Assert.Equal(row[0] + 2 * row[2] + 10, y[1, 0, 0], 5);
        Assert.Equal(row[1] - row[3] + 20, y[1, 0, 1], 5);
    }

    [Fact]
    public void Causal_attention_ignores_later_positions()
    {
        var (m, e) = Run("y = attention(x, heads, causal = true)\noutput y\n");
        var before = e.Run(m.Graph.Outputs["y"]);
        var changed = (float[])X.Clone();
        for (int c = 0; c < 4; c++) changed[(0 * 3 + 2) * 4 + c] += 5;     // perturb batch 0, position 2
        var after = new FloatReference(Dims, new Dictionary<string, float[]> { ["x"] = changed, ["idx"] = Idx }).Run(m.Graph.Outputs["y"]);
        for (int c = 0; c < 4; c++)
        {
            Assert.Equal(before[0, 0, c], after[0, 0, c], 5);
            Assert.Equal(before[0, 1, c], after[0, 1, c], 5);
            Assert.NotEqual(before[0, 2, c], after[0, 2, c]);
        }
    }

    [Fact]
    public void Attention_matches_a_direct_computation_of_one_head_layout()
    {
        // With identity projections and zero biases, each head attends with its own half of the features.
        var (m, e) = Run("y = attention(x, heads)\noutput y\n");
        var qkv = new float[4 * 12];
        for (int i = 0; i < 4; i++) for (int part = 0; part < 3; part++) qkv[i * 12 + part * 4 + i] = 1;
        var proj = new float[16];
        for (int i = 0; i < 4; i++) proj[i * 4 + i] = 1;
        e.Parameters["y.qkv.weight"] = qkv;
        e.Parameters["y.proj.weight"] = proj;
        var y = e.Run(m.Graph.Outputs["y"]);
        for (int b = 0; b < 2; b++)
            for (int t = 0; t < 3; t++)
                for (int head = 0; head < 2; head++)
                {
                    var q = Row(b, t).Skip(head * 2).Take(2).ToArray();
                    var scores = Enumerable.Range(0, 3).Select(s => Math.Exp(Row(b, s).Skip(head * 2).Take(2).Zip(q, (k, qq) => k * qq).Sum() / Math.Sqrt(2))).ToArray();
                    for (int f = 0; f < 2; f++)
                    {
                        double expected = Enumerable.Range(0, 3).Sum(s => scores[s] * Row(b, s)[head * 2 + f]) / scores.Sum();
                        Assert.Equal(expected, y[b, t, head * 2 + f], 4);
                    }
                }
    }

    [Fact]
    public void Tied_unembedding_scores_against_the_embedding_rows()
    {
        var (m, e) = Run("wte = embedding(5, 4)\nh = wte(idx)\ny = unembed(h, tied = wte)\noutput y\n");
        var table = Enumerable.Range(0, 20).Select(i => (float)(i % 7) - 3).ToArray();
        e.Parameters["wte.weight"] = table;
        var y = e.Run(m.Graph.Outputs["y"]);
        int token = (int)Idx[4];
        for (int v = 0; v < 5; v++)
        {
            double dot = 0;
            for (int c = 0; c < 4; c++) dot += table[token * 4 + c] * table[v * 4 + c];
            Assert.Equal(dot, y[1, 1, v], 4);
        }
    }
}
