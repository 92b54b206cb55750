namespace Dataflow.Engine.Data;

/// <summary>
/// nanoGPT's get_batch: each of a batch's rows is a window of <c>context</c> tokens starting at a
/// uniformly random offset, and its targets are the same window shifted one token to the left.
/// The random generator is the caller's, so its state can travel in a checkpoint.
/// </summary>
public sealed class TokenBatchSampler
{
    private readonly int[] _tokens;

    public TokenBatchSampler(int[] tokens, int context)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(context);
        if (tokens.Length < context + 1)
            throw new DataException($"a split of {tokens.Length} tokens is too short for windows of {context} tokens plus one target");
        _tokens = tokens;
        Context = context;
    }

    public int Context { get; }

    /// <summary>Fills <paramref name="inputs"/> and <paramref name="targets"/> (both batch × context, row-major).</summary>
    public void Next(SeededRandom random, Span<int> inputs, Span<int> targets)
    {
        if (inputs.Length != targets.Length || inputs.Length % Context != 0)
            throw new ArgumentException($"inputs and targets must both hold whole rows of {Context} tokens");
        int rows = inputs.Length / Context;
        int offsets = _tokens.Length - Context;
        for (int r = 0; r < rows; r++)
        {
            int start = random.NextInt(offsets);
            _tokens.AsSpan(start, Context).CopyTo(inputs.Slice(r * Context, Context));
            _tokens.AsSpan(start + 1, Context).CopyTo(targets.Slice(r * Context, Context));
        }
    }
}
