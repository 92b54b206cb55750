namespace Dataflow.Graph.Dsl;

/// <summary>
/// Names of the tensors a model gains in decode mode (<see cref="ModelOptions.CacheLength"/>), so the
/// runner that feeds them and the layers that declare them agree.
/// </summary>
public static class DecodeInputs
{
    /// <summary><c>position : i32[1]</c>: the position of the first token fed this step.</summary>
    public const string Position = "position";

    public const string CachePrefix = "cache.";

    /// <summary>The key cache of the attention layer in <paramref name="scope"/>: an input and an output.</summary>
    public static string Keys(string scope) => CachePrefix + scope + ".k";

    /// <summary>The value cache of the attention layer in <paramref name="scope"/>: an input and an output.</summary>
    public static string Values(string scope) => CachePrefix + scope + ".v";

    public static bool IsCache(string name) => name.StartsWith(CachePrefix, StringComparison.Ordinal);
}
