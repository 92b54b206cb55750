namespace Dataflow.Generation;

/// <summary>
/// What a sequence sees once it outgrows the context: the tokens [start, n). When the next token
/// would not fit (n − start > L), the window jumps to keep the last ⌈L/2⌉ tokens, which are prefilled
/// again from position 0 into the sequence's slot (learned positions cannot be shifted in place).
/// So generation runs past the context at the cost of one prefill per half-context of tokens.
/// </summary>
public static class SlidingWindow
{
    /// <summary>The window's first token once the sequence holds <paramref name="count"/> tokens.</summary>
    public static int Start(int start, int count, int context) =>
        count - start <= context ? start : count - (context + 1) / 2;
}
