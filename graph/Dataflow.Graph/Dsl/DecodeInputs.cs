namespace Dataflow.Graph.Dsl;

/// <summary>
/// Names of the tensors a model gains in decode mode (<see cref="ModelOptions.CacheLength"/>), so the
/// runner that feeds them and the layers that declare them agree.
/// </summary>
public static class DecodeInputs
{
    /// <summary><c>position : i32[B]</c>: the position of each row's first token fed this step.</summary>
    public const string Position = "position";

    /// <summary><c>slot : i32[B]</c>: the cache slot of each row (only when the cache's slots are not the rows).</summary>
    public const string Slot = "slot";

    /// <summary><c>last : i32[B]</c>: the prefill graph's row whose logits are wanted (the chunk's last real token).</summary>
    public const string Last = "last";

    public const string CachePrefix = "cache.";

    /// <summary>The key cache of the attention layer in <paramref name="scope"/>: a state tensor.</summary>
    public static string Keys(string scope) => CachePrefix + scope + ".k";

    /// <summary>The value cache of the attention layer in <paramref name="scope"/>: a state tensor.</summary>
    public static string Values(string scope) => CachePrefix + scope + ".v";

    public static bool IsCache(string name) => name.StartsWith(CachePrefix, StringComparison.Ordinal);
}
