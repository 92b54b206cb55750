using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Dsl.Layers;

/// <summary>
/// <c>wte = embedding(vocab, d, std = 0.02)</c> makes a layer object owning a [vocab, d] table;
/// <c>wte(tokens)</c> looks rows up (Gather), and <c>unembed(x, tied = wte)</c> reuses the table.
/// </summary>
public static class Embedding
{
    public static IEnumerable<LayerDef> All => [new("embedding", ["vocab", "d", "std?"], (a, c) =>
    {
        var std = a.Number("std", 0.02);
        var table = c.Parameter("weight", Shape.Of(a.Size("vocab"), a.Size("d")), ParamInit.Normal(std), ParamCategory.Embedding);
        var scope = c.Builder.CurrentScope;
        return new EmbeddingTable(scope[(scope.LastIndexOf('.') + 1)..], table);
    })];

    /// <summary>The callable object: its weight is the [vocab, d] table.</summary>
    public sealed record EmbeddingTable(string Name, Node Weight) : LayerObject(Name, "embedding")
    {
        public override string[] Signature => ["idx"];

        public override Value Apply(CallArgs args, LowerContext context)
        {
            var idx = args.Tensor("idx");
            if (idx.DType != DType.I32)
                throw args.Error("idx", $"embedding lookups take i32 indices, got {idx.Type}");
            return new TensorValue(context.Builder.Gather(Weight, idx));
        }
    }
}
