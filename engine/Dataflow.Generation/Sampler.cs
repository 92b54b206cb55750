using Dataflow.Engine.Data;
using Dataflow.Engine;

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

    public int Next(ReadOnlySpan<float> logits)
    {
        if (logits.Length == 0) throw new ArgumentException("no logits to sample from", nameof(logits));
        CheckFinite(logits);
        if (_options.Temperature == 0) return ArgMax(logits);

        if (_order.Length != logits.Length) (_order, _weights) = (new int[logits.Length], new double[logits.Length]);
        for (int i = 0; i < _order.Length; i++) _order[i] = i;
        var values = logits.ToArray();
        Array.Sort(_order, (a, b) => values[a] != values[b] ? values[b].CompareTo(values[a]) : a.CompareTo(b));

        int kept = _options.TopK > 0 ? Math.Min(_options.TopK, _order.Length) : _order.Length;
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
    /// NaN or +∞ anywhere, or no logit above −∞, leaves nothing to draw from (greedy would pick an
    /// arbitrary token): a domain error, not a stream of garbage. −∞ alone is a masked token and fine.
    /// </summary>
    private static void CheckFinite(ReadOnlySpan<float> logits)
    {
        bool any = false;
        for (int i = 0; i < logits.Length; i++)
        {
            float v = logits[i];
            if (float.IsNaN(v) || float.IsPositiveInfinity(v))
                throw new NonFiniteLogitsException($"the model's logits are not finite ({v} for token {i} of {logits.Length}); its weights are probably not finite (did training diverge?)");
            any |= !float.IsNegativeInfinity(v);
        }
        if (!any) throw new NonFiniteLogitsException($"every one of the model's {logits.Length} logits is -Infinity; there is no token to draw");
    }

    public static int ArgMax(ReadOnlySpan<float> values)
    {
        int best = 0;
        for (int i = 1; i < values.Length; i++) if (values[i] > values[best]) best = i;
        return best;
    }
}
