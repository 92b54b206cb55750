namespace Dataflow.Graph.Lora;

/// <summary>
/// The names LoRA targets are given by: the role a linear plays in its layer, the scope name its
/// weight is stored under (<c>decoder.0.attention.qkv.weight</c> is role <c>qkv</c>). The MLP's
/// output weight is stored as <c>mlp.proj</c>, but its role is <c>mlp_proj</c>, so that <c>proj</c>
/// alone is the attention's output projection and the two can be chosen separately.
/// </summary>
public static class LoraTargets
{
    public const string Qkv = "qkv", Query = "q", KeyValue = "kv", Proj = "proj", Fc = "fc", MlpProj = "mlp_proj", Linear = "linear";

    /// <summary>Every role and the weight it names, for errors and documentation.</summary>
    public static readonly IReadOnlyDictionary<string, string> Roles = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        [Qkv] = "attention.qkv: self-attention's fused query/key/value projection [d, 3d]",
        [Query] = "attention.q: cross-attention's query projection [d, d]",
        [KeyValue] = "attention.kv: cross-attention's fused key/value projection [d, 2d]",
        [Proj] = "attention.proj: attention's output projection [d, d]",
        [Fc] = "mlp.fc: the MLP's first linear [d, hidden]",
        [MlpProj] = "mlp.proj: the MLP's second linear [hidden, d]",
        [Linear] = "every linear(x, n) call of the model file",
    };

    /// <summary>Attention's projections: the peft/LoRA paper's usual choice, and the default when nothing names targets.</summary>
    public static readonly IReadOnlyList<string> Default = [Qkv, Proj];

    /// <summary>Throws a <see cref="LoraException"/> for a name that is no role, with the nearest one.</summary>
    public static void Check(string target)
    {
        if (Roles.ContainsKey(target)) return;
        throw new LoraException($"'{target}' is not a LoRA target{Dsl.Suggest.Hint(target, Roles.Keys)} (targets: {string.Join(", ", Roles.Keys)})");
    }
}
