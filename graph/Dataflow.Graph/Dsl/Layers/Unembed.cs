using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>unembed(x, tied = wte)</c>: logits x @ wteᵀ, reusing the embedding table (no new parameters);
/// <c>unembed(x, vocab)</c>: an untied output projection [d, vocab] without bias. In the prefill
/// graph of decode mode only row <c>last[b]</c> of each sequence is projected (logits [B, 1, vocab]).
/// </summary>
public static class Unembed
{
    public static IEnumerable<LayerDef> All => [new("unembed", ["x", "vocab?", "tied?", "std?"], (a, c) =>
    {
        var x = a.Tensor("x");
        // A prefill chunk needs the next-token logits of its last token only: the vocabulary projection is the costliest matmul.
        if (c.CacheSlots is not null) x = KeyValueCache.LastRows(c, x);
        if (a.Raw("tied") is { } tied)
        {
            if (a.Has("vocab")) throw a.Error("vocab", "give either vocab (untied) or tied = an embedding, not both");
            if (tied is not Embedding.EmbeddingTable table)
                throw tied is SymbolValue s ? c.UnknownName(s) : a.Error("tied", $"tied must be an embedding layer, got {tied.Describe()}");
            return new TensorValue(c.Builder.MatMul(x, table.Weight, transposeB: true));
        }
        if (!a.Has("vocab")) throw a.Error("x", "needs vocab (an untied projection) or tied = an embedding");
        var init = a.Has("std") ? ParamInit.Normal(a.Number("std")) : ParamInit.Xavier;
        if (x.Shape.Rank < 2) throw new ShapeException($"unembed: x must be [..., d], got {x.Type}");
        return new TensorValue(Linear.Apply(c, x, a.Size("vocab"), false, init, Ir.ParamCategory.Embedding));
    })];
}
