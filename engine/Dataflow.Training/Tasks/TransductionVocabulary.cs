namespace Dataflow.Training.Tasks;

/// <summary>
/// The token ids every transduction task shares: padding, begin and end of sequence, then the ten
/// digits in order (so sorting ids sorts digits). PAD is 0 so a model's <c>ignore = 0</c> masks it.
/// </summary>
public static class TransductionVocabulary
{
    public const int Pad = 0;
    public const int Bos = 1;
    public const int Eos = 2;
    public const int FirstDigit = 3;
    public const int Size = FirstDigit + 10;

    public static int Digit(int value) =>
        value is >= 0 and <= 9 ? FirstDigit + value : throw new ArgumentOutOfRangeException(nameof(value), value, "a digit is 0..9");

    /// <summary>Tokens as text for logs and test messages: digits as themselves, specials in angle brackets.</summary>
    public static string Format(ReadOnlySpan<int> tokens)
    {
        var text = new System.Text.StringBuilder();
        foreach (var t in tokens)
            text.Append(t switch
            {
                Pad => "<pad>",
                Bos => "<s>",
                Eos => "</s>",
                >= FirstDigit and < Size => (char)('0' + t - FirstDigit),
                _ => $"<{t}>",
            });
        return text.ToString();
    }
}
