namespace Dataflow.Reinforcement;

/// <summary>
/// Prompt-plus-completion sequences packed as a language model's batch of [rows, length]: position t
/// feeds token t and predicts token t + 1 (the targets), and the mask is 1 exactly where that target
/// is a completion token, so the prompt and the padding count for nothing. Padding is token 0.
/// </summary>
public sealed class SequenceRows
{
    public SequenceRows(int rows, int length)
    {
        (Rows, Length) = (rows, length);
        (Tokens, Targets, Mask) = (new int[rows * length], new int[rows * length], new float[rows * length]);
        CompletionTokens = new int[rows];
    }

    public int Rows { get; }
    public int Length { get; }
    public int[] Tokens { get; }
    public int[] Targets { get; }
    public float[] Mask { get; }

    /// <summary>The completion tokens each row trains on (those that fit).</summary>
    public int[] CompletionTokens { get; }

    /// <summary>Writes row <paramref name="row"/>: the prompt, then the completion, cut to fit <see cref="Length"/> + 1 tokens.</summary>
    public void Set(int row, int[] prompt, int[] completion)
    {
        if (prompt.Length == 0) throw new ArgumentException("a prompt needs at least one token", nameof(prompt));
        if (prompt.Length > Length) throw new ArgumentException($"a prompt of {prompt.Length} tokens leaves no room in rows of {Length}", nameof(prompt));
        var tokens = Tokens.AsSpan(row * Length, Length);
        var targets = Targets.AsSpan(row * Length, Length);
        var mask = Mask.AsSpan(row * Length, Length);
        tokens.Clear(); targets.Clear(); mask.Clear();
        int total = Math.Min(prompt.Length + completion.Length, Length + 1);
        int At(int i) => i < prompt.Length ? prompt[i] : completion[i - prompt.Length];
        for (int t = 0; t + 1 < total; t++)
        {
            tokens[t] = At(t);
            targets[t] = At(t + 1);
            mask[t] = t + 1 >= prompt.Length ? 1 : 0;
        }
        CompletionTokens[row] = total - prompt.Length;
    }

    /// <summary>Σ over row <paramref name="row"/>'s masked positions of <paramref name="perToken"/> ([rows, length]).</summary>
    public double MaskedSum(ReadOnlySpan<float> perToken, int row)
    {
        double sum = 0;
        for (int t = 0; t < Length; t++) sum += Mask[row * Length + t] * perToken[row * Length + t];
        return sum;
    }
}
