namespace Dataflow.Chat.Tasks;

/// <summary>
/// The held-out line every task draws: a problem (or word) is in the test split when a fixed hash
/// of its key falls in one tenth of the range, so the split is the same on every machine and run.
/// </summary>
public static class HeldOut
{
    public const int TestShareOf = 10;

    public static DataSplit SplitOf(string key)
    {
        uint hash = 2166136261;                       // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (char c in key) hash = (hash ^ c) * 16777619;
        return hash % TestShareOf == 3 ? DataSplit.Test : DataSplit.Train;
    }

    /// <summary>Draws from <paramref name="make"/> until the drawn key is on <paramref name="split"/>'s side.</summary>
    public static T Draw<T>(Random random, DataSplit split, Func<Random, (string Key, T Value)> make)
    {
        for (int tries = 0; ; tries++)
        {
            var (key, value) = make(random);
            if (SplitOf(key) == split) return value;
            if (tries > 100_000) throw new InvalidOperationException($"no {split} problem found in 100000 draws (the split is empty)");
        }
    }
}
