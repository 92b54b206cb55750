namespace Dataflow.Reinforcement;

/// <summary>
/// K preference pairs as one batch of 2K sequences: rows 0 … K − 1 the chosen completions, rows
/// K … 2K − 1 the rejected ones, with the row indices the pair objectives gather by.
/// </summary>
internal static class PairRows
{
    public static (int[] Chosen, int[] Rejected) Indices(int pairs) =>
        ([.. Enumerable.Range(0, pairs)], [.. Enumerable.Range(pairs, pairs)]);

    /// <summary>Language-model rows (shifted targets, mask on the completion) for DPO.</summary>
    public static SequenceRows Sequences(IReadOnlyList<TokenizedPair> pairs, IReadOnlyList<int> picked, int length)
    {
        var rows = new SequenceRows(2 * picked.Count, length);
        for (int i = 0; i < picked.Count; i++)
        {
            var pair = pairs[picked[i]];
            rows.Set(i, pair.Prompt, pair.Chosen);
            rows.Set(picked.Count + i, pair.Prompt, pair.Rejected);
        }
        return rows;
    }

    /// <summary>
    /// Each pair's chosen and rejected completion log-probabilities under the scorer's policy, for
    /// <paramref name="pairs"/> in batches of <paramref name="perBatch"/> (the last one padded with pair 0, whose scores are dropped).
    /// </summary>
    public static (double[] Chosen, double[] Rejected) Score(PolicyScorer scorer, IReadOnlyList<TokenizedPair> pairs, int perBatch, int length)
    {
        var (chosen, rejected) = (new double[pairs.Count], new double[pairs.Count]);
        for (int start = 0; start < pairs.Count; start += perBatch)
        {
            var picked = Enumerable.Range(start, perBatch).Select(i => i < pairs.Count ? i : 0).ToArray();
            var scores = scorer.SequenceLogProbs(Sequences(pairs, picked, length));
            for (int i = 0; i < perBatch && start + i < pairs.Count; i++)
                (chosen[start + i], rejected[start + i]) = (scores[i], scores[perBatch + i]);
        }
        return (chosen, rejected);
    }
}
