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
        if (c.Lora is { TokenRows.Count: > 0 } lora) table = WithTrainedRows(c, table, lora.TokenRows);
        var scope = c.Builder.CurrentScope;
        return new EmbeddingTable(scope[(scope.LastIndexOf('.') + 1)..], table);
    })];

    /// <summary>
    /// LoRA's trained token rows: the frozen table plus a zero-initialised delta [rows, d] scattered onto
    /// those rows by a constant one-hot [vocab, rows] matmul (so lookups and a tied unembedding both see
    /// it, and its gradient is the matmul's); <see cref="Lora.LoraMerge"/> adds the same delta to the table.
    /// </summary>
    private static Node WithTrainedRows(LowerContext c, Node table, IReadOnlyList<int> rows)
    {
        var (vocab, d) = (table.Shape[0], table.Shape[1]);
        if (!vocab.IsConstant) throw new ShapeException($"LoRA token rows need an embedding of fixed vocabulary, got {table.Type}");
        if (rows[^1] >= vocab.Value) throw new ShapeException($"LoRA token row {rows[^1]} is outside the embedding's vocabulary of {vocab.Value}");
        var scatter = new float[vocab.Value * rows.Count];
        for (int i = 0; i < rows.Count; i++) scatter[rows[i] * rows.Count + i] = 1;
        var delta = c.Parameter(Lora.LoraConfig.TokenRowsSuffix, Shape.Of(Dim.Const(rows.Count), d), ParamInit.Zeros, ParamCategory.Adapter);
        c.TokenRowsAdapted = true;
        var b = c.Builder;
        return b.Add(table, b.MatMul(b.Constant(scatter, Shape.Of(vocab, Dim.Const(rows.Count))), delta));
    }

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
