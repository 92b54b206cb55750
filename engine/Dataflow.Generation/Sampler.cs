using Dataflow.Engine.Data;
using Dataflow.Engine;
using System.Runtime.Intrinsics;

namespace Dataflow.Generation;

/// <summary>How the next token is drawn from the logits.</summary>
/// <param name="Temperature">0 is greedy (argmax, deterministic); otherwise logits are divided by it.</param>
/// <param name="TopK">Keep only the K most likely tokens; 0 keeps all.</param>
/// <param name="TopP">Nucleus sampling: keep the smallest set of most likely tokens whose probability reaches P; 1 keeps all.</param>
public sealed record SamplingOptions(double Temperature = 1, int TopK = 0, double TopP = 1)
{
    /// <summary>Throws a <see cref="ConfigurationException"/> naming the flag when a value is out of range.</summary>
    public SamplingOptions Validated()
    {
        if (!double.IsFinite(Temperature) || Temperature < 0) throw new ConfigurationException($"--temperature {Temperature}: must be 0 (greedy) or positive");
        if (TopK < 0) throw new ConfigurationException($"--top-k {TopK}: must be 0 (off) or positive");
        if (!(TopP > 0 && TopP <= 1)) throw new ConfigurationException($"--top-p {TopP}: must be in (0, 1]");
        return this;
    }
}

/// <summary>
/// Temperature, top-k and top-p (nucleus) sampling, in that order, as in Hugging Face's generate.
/// Draws come from a <see cref="SeededRandom"/>, so the same seed gives the same tokens; ties between
/// equal logits go to the lower id, so the order never depends on a sort's stability.
/// </summary>
public sealed class Sampler(SamplingOptions options, SeededRandom random)
{
    private readonly SamplingOptions _options = options.Validated();
    private int[] _order = [];
    private double[] _weights = [];
    private float[] _values = [];

    public int Next(ReadOnlySpan<float> logits)
    {
        if (logits.Length == 0) throw new ArgumentException("no logits to sample from", nameof(logits));
        float best = CheckedMax(logits);
        if (_options.Temperature == 0) return FirstIndexOf(logits, best);

        if (_order.Length != logits.Length) (_order, _weights, _values) = (new int[logits.Length], new double[logits.Length], new float[logits.Length]);
        logits.CopyTo(_values);
        var values = _values;
        int kept = _options.TopK > 0 ? Math.Min(_options.TopK, _order.Length) : _order.Length;
        Comparison<int> before = (a, b) => values[a] != values[b] ? values[b].CompareTo(values[a]) : a.CompareTo(b);
        if (kept < _order.Length) SelectBest(values, kept, before);   // O(vocab log K), not a sort of the vocabulary
        else
        {
            for (int i = 0; i < _order.Length; i++) _order[i] = i;
            Array.Sort(_order, before);
        }
        double max = values[_order[0]], total = 0;
        for (int i = 0; i < kept; i++)
        {
            float logit = values[_order[i]];
            total += _weights[i] = Math.Exp((logit - max) / _options.Temperature);
        }

        if (_options.TopP < 1)
        {
            double cumulative = 0;
            for (int i = 0; i < kept; i++)
            {
                cumulative += _weights[i];
                if (cumulative >= _options.TopP * total) { kept = i + 1; total = cumulative; break; }
            }
        }

        double draw = random.NextDouble() * total;
        for (int i = 0; i < kept; i++)
        {
            draw -= _weights[i];
            if (draw < 0) return _order[i];
        }
        return _order[kept - 1];    // rounding left a sliver at the end
    }

    /// <summary>
    /// Puts the <paramref name="k"/> best ids (by <paramref name="before"/>: larger logit, then lower id)
    /// in <c>_order[0 … k−1]</c>, in that order — the same prefix a full sort gives, since the order is total.
    /// A min-heap of the k best seen so far keeps its worst at the root.
    /// </summary>
    private void SelectBest(float[] values, int k, Comparison<int> before)
    {
        var heap = _order;   // heap[0 … k−1]; heap[0] is the worst kept
        for (int id = 0; id < values.Length; id++)
        {
            if (id < k)
            {
                int child = id;
                heap[child] = id;
                while (child > 0 && before(heap[(child - 1) / 2], heap[child]) < 0)
                {
                    (heap[child], heap[(child - 1) / 2]) = (heap[(child - 1) / 2], heap[child]);
                    child = (child - 1) / 2;
                }
            }
            else if (before(id, heap[0]) < 0)
            {
                heap[0] = id;
                for (int parent = 0; ;)
                {
                    int worst = parent, left = 2 * parent + 1, right = left + 1;
                    if (left < k && before(heap[left], heap[worst]) > 0) worst = left;
                    if (right < k && before(heap[right], heap[worst]) > 0) worst = right;
                    if (worst == parent) break;
                    (heap[parent], heap[worst]) = (heap[worst], heap[parent]);
                    parent = worst;
                }
            }
        }
        Array.Sort(heap, 0, k, Comparer<int>.Create(before));
    }

    /// <summary>
    /// The largest logit, after checking that it means something: NaN or +∞ anywhere, or no logit above −∞,
    /// leaves nothing to draw from (greedy would pick an arbitrary token): a domain error, not a stream of
    /// garbage. −∞ alone is a masked token and fine. One vector pass (a decode step of 16 sequences samples
    /// 16 × the vocabulary every frame, where two scalar passes cost half a millisecond); the scalar pass
    /// runs only to name the bad value.
    /// </summary>
    private static float CheckedMax(ReadOnlySpan<float> logits)
    {
        var bad = Vector256<float>.Zero;
        var max = Vector256.Create(float.NegativeInfinity);
        var infinity = Vector256.Create(float.PositiveInfinity);
        int i = 0;
        for (; i + Vector256<float>.Count <= logits.Length; i += Vector256<float>.Count)
        {
            var v = Vector256.Create(logits.Slice(i, Vector256<float>.Count));
            bad |= ~Vector256.Equals(v, v) | Vector256.Equals(v, infinity);
            max = Vector256.Max(max, v);
        }
        float best = float.NegativeInfinity;
        for (int lane = 0; lane < Vector256<float>.Count; lane++) best = Math.Max(best, max[lane]);
        bool anyBad = bad != Vector256<float>.Zero;
        for (; i < logits.Length; i++)
        {
            float v = logits[i];
            anyBad |= float.IsNaN(v) || float.IsPositiveInfinity(v);
            if (v > best) best = v;
        }
        if (anyBad || float.IsNegativeInfinity(best)) ThrowNotFinite(logits);
        return best;
    }

    private static void ThrowNotFinite(ReadOnlySpan<float> logits)
    {
        for (int i = 0; i < logits.Length; i++)
        {
            float v = logits[i];
            if (float.IsNaN(v) || float.IsPositiveInfinity(v))
                throw new NonFiniteLogitsException($"the model's logits are not finite ({v} for token {i} of {logits.Length}); its weights are probably not finite (did training diverge?)");
        }
        throw new NonFiniteLogitsException($"every one of the model's {logits.Length} logits is -Infinity; there is no token to draw");
    }

    /// <summary>The first index holding <paramref name="value"/> (compared as numbers, so −0 = +0): for the maximum, what <see cref="ArgMax"/> returns.</summary>
    private static int FirstIndexOf(ReadOnlySpan<float> values, float value)
    {
        var wanted = Vector256.Create(value);
        int i = 0;
        for (; i + Vector256<float>.Count <= values.Length; i += Vector256<float>.Count)
        {
            uint hits = Vector256.Equals(Vector256.Create(values.Slice(i, Vector256<float>.Count)), wanted).ExtractMostSignificantBits();
            if (hits != 0) return i + System.Numerics.BitOperations.TrailingZeroCount(hits);
        }
        for (; i < values.Length; i++) if (values[i] == value) return i;
        return ArgMax(values);
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
