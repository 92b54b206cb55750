using Dataflow.Graph.Dsl.Layers;

namespace Dataflow.Graph.Dsl;

/// <summary>
/// A built-in layer or function callable from a model file. <see cref="Signature"/> lists its
/// arguments in positional order; a trailing '?' marks one as optional (its default lives in the
/// lowering code, where it is read). <see cref="Lower"/> builds primitives through the context's
/// builder, already inside the layer's scope.
/// </summary>
public sealed record LayerDef(string Name, string[] Signature, Func<CallArgs, LowerContext, Value> Lower);

/// <summary>All built-in layers and functions, by name.</summary>
public static class LayerRegistry
{
    private static readonly Dictionary<string, LayerDef> Table = Build();

    public static bool TryGet(string name, out LayerDef layer) => Table.TryGetValue(name, out layer!);

    public static IEnumerable<string> Names => Table.Keys;

    private static Dictionary<string, LayerDef> Build()
    {
        var all = new[]
        {
            Activations.All, Linear.All, Softmax.All, Losses.All, PolicyLosses.All, ValueHead.All,
            Reductions.All, Shaping.All, Dropout.All,
            Embedding.All, Positions.All, LayerNorm.All, Attention.All, Mlp.All, Unembed.All,
        }.SelectMany(x => x);
        return all.ToDictionary(l => l.Name, StringComparer.Ordinal);
    }
}
