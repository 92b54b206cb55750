using System.Diagnostics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using Dataflow.Engine.Jobs;

namespace Dataflow.Runner.Bench;

/// <summary>
/// The llama2.c-equivalent figure of <c>bench gpt-generate</c>, measured in the same run: batch-1 greedy
/// decoding of a <see cref="GenerateShape"/> written the way <c>run.c</c> is — one plain forward per
/// token over float arrays, every matrix stored [out, in] and multiplied as one dot product per output
/// row, the rows shared among the threads (its <c>#pragma omp parallel for</c>), attention over the
/// filled cache positions only. Same weight bytes as the graph (GPT blocks: layernorm, fused QKV,
/// GELU MLP of 4·d, tied unembedding), random weights; no graph, no engine, none of the backend's
/// kernels. It shows what a hand-written loop gets on this machine at this moment, so the table can
/// give Dataflow's tokens/s as a fraction of it even when other work shares the cores.
/// </summary>
public sealed class GenerateReference
{
    private readonly GenerateShape _shape;
    private readonly float[] _wte, _wpe;
    private readonly Layer[] _layers;
    private readonly float[] _x, _h, _qkv, _att, _scores, _hidden, _logits;
    private readonly float[][] _keys, _values;

    private sealed record Layer(float[] Qkv, float[] QkvBias, float[] Proj, float[] ProjBias, float[] Fc, float[] FcBias, float[] FcProj, float[] FcProjBias);

    public GenerateReference(GenerateShape shape, int seed)
    {
        _shape = shape;
        int d = shape.D, hidden = 4 * d;
        var random = new Random(seed);
        float[] Weights(long count)
        {
            var w = new float[count];
            for (long i = 0; i < count; i++) w[i] = (float)(random.NextDouble() - 0.5) * 0.04f;
            return w;
        }
        _wte = Weights((long)shape.Vocab * d);
        _wpe = Weights((long)shape.Context * d);
        _layers = [.. Enumerable.Range(0, shape.Layers).Select(_ => new Layer(
            Weights(3L * d * d), Weights(3 * d), Weights((long)d * d), Weights(d), Weights((long)hidden * d), Weights(hidden), Weights((long)d * hidden), Weights(d)))];
        (_x, _h, _qkv, _att, _scores, _hidden, _logits) = (new float[d], new float[d], new float[3 * d], new float[d], new float[shape.Context], new float[hidden], new float[shape.Vocab]);
        _keys = [.. _layers.Select(_ => new float[(long)shape.Context * d])];
        _values = [.. _layers.Select(_ => new float[(long)shape.Context * d])];
    }

    /// <summary>
    /// Tokens/s of greedy decoding at positions 0, s, 2s, … below <paramref name="tokens"/> (s = <paramref name="stride"/>):
    /// a token's cost grows with its position, so every s-th one has the average cost of all of them.
    /// </summary>
    public double TokensPerSecond(int tokens, int stride)
    {
        // Warm-up as long as the graph's (a second, at least 4 tokens): first touch, and the JIT's tiering
        // done, so the reference is not measured on first-call code.
        int token = 1;
        var warmup = Stopwatch.StartNew();
        for (int i = 0; i < 4 || warmup.Elapsed < WarmupTime; i++) token = Forward(token, i % Math.Min(tokens, _shape.Context));
        int count = 0;
        long start = Stopwatch.GetTimestamp();
        for (int pos = 0; pos < Math.Min(tokens, _shape.Context); pos += stride, count++) token = Forward(token, pos);
        return count / Stopwatch.GetElapsedTime(start).TotalSeconds;
    }

    private static readonly TimeSpan WarmupTime = TimeSpan.FromSeconds(1);

    /// <summary>One token through the model at <paramref name="pos"/>; returns the greedy next token.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private int Forward(int token, int pos)
    {
        int d = _shape.D, heads = _shape.Heads, hd = d / heads;
        _wte.AsSpan(token * d, d).CopyTo(_x);
        TensorPrimitives.Add(_x, _wpe.AsSpan(pos * d, d), _x);
        float scale = 1 / MathF.Sqrt(hd);
        for (int l = 0; l < _layers.Length; l++)
        {
            var w = _layers[l];
            LayerNorm(_x, _h);
            MatVec(w.Qkv, w.QkvBias, _h, _qkv);
            _qkv.AsSpan(d, d).CopyTo(_keys[l].AsSpan(pos * d, d));
            _qkv.AsSpan(2 * d, d).CopyTo(_values[l].AsSpan(pos * d, d));
            for (int head = 0; head < heads; head++)
            {
                var q = _qkv.AsSpan(head * hd, hd);
                var scores = _scores.AsSpan(0, pos + 1);
                for (int t = 0; t <= pos; t++) scores[t] = TensorPrimitives.Dot(q, _keys[l].AsSpan(t * d + head * hd, hd)) * scale;
                TensorPrimitives.SoftMax(scores, scores);
                var output = _att.AsSpan(head * hd, hd);
                output.Clear();
                for (int t = 0; t <= pos; t++) TensorPrimitives.MultiplyAdd(_values[l].AsSpan(t * d + head * hd, hd), scores[t], output, output);
            }
            MatVec(w.Proj, w.ProjBias, _att, _h);
            TensorPrimitives.Add(_x, _h, _x);
            LayerNorm(_x, _h);
            MatVec(w.Fc, w.FcBias, _h, _hidden);
            for (int i = 0; i < _hidden.Length; i++)
            {
                float v = _hidden[i];
                _hidden[i] = 0.5f * v * (1 + MathF.Tanh(0.7978846f * (v + 0.044715f * v * v * v)));
            }
            MatVec(w.FcProj, w.FcProjBias, _hidden, _h);
            TensorPrimitives.Add(_x, _h, _x);
        }
        LayerNorm(_x, _h);
        MatVec(_wte, null, _h, _logits);
        return TensorPrimitives.IndexOfMax(_logits);
    }

    /// <summary>y = W·x (+ bias), W [y.Length, x.Length] row-major: one dot product per row, the rows shared among the threads.</summary>
    private static void MatVec(float[] w, float[]? bias, float[] x, float[] y)
    {
        int n = x.Length;
        JobSystem.Shared.ParallelFor(y.Length, 16, [MethodImpl(MethodImplOptions.AggressiveOptimization)] (first, last) =>
        {
            for (int i = first; i < last; i++) y[i] = TensorPrimitives.Dot(w.AsSpan(i * n, n), x) + (bias is null ? 0 : bias[i]);
        });
    }

    private static void LayerNorm(float[] x, float[] y)
    {
        float mean = TensorPrimitives.Sum(x) / x.Length;
        TensorPrimitives.Subtract(x, mean, y);
        float variance = TensorPrimitives.SumOfSquares(y) / x.Length;
        TensorPrimitives.Multiply(y, 1 / MathF.Sqrt(variance + 1e-5f), y);
    }
}
