using Dataflow.Graph.Checkpoints;

namespace Dataflow.Graph.Lora;

/// <summary>
/// Folds an adapter into its base's weights, W' = W + (alpha/r)·A·B, and its trained token rows into
/// the embedding table (row t += delta[t], exactly what the adapted graph adds), giving a plain checkpoint every
/// verb opens (no adapter graph, no extra cost per token); <see cref="Unmerge"/> subtracts it again.
/// Sums are in double, so the merge rounds once per weight; unmerging restores W to within a float's
/// rounding of the merged value, not bit for bit.
/// </summary>
public static class LoraMerge
{
    /// <summary>Config key naming the adapter a merged checkpoint holds.</summary>
    public const string MergedKey = "lora.merged_adapter";

    public static Checkpoint Merge(Checkpoint baseCheckpoint, LoraAdapter adapter) => Apply(baseCheckpoint, adapter, +1);

    public static Checkpoint Unmerge(Checkpoint merged, LoraAdapter adapter) => Apply(merged, adapter, -1);

    private static Checkpoint Apply(Checkpoint source, LoraAdapter adapter, int sign)
    {
        var tensors = source.Tensors.ToList();
        var index = tensors.Select((t, i) => (t.Name, i)).ToDictionary(p => p.Name, p => p.i, StringComparer.Ordinal);
        double scale = sign * adapter.Config.Scale;
        foreach (var (weightName, a, b) in adapter.Pairs())
        {
            if (!index.TryGetValue(weightName, out int i))
                throw new CheckpointException(adapter.Path, $"adapts '{weightName}', a tensor the base does not have");
            var w = tensors[i];
            if (w.Shape.Length != 2 || a.Shape.Length != 2 || b.Shape.Length != 2 || a.Shape[0] != w.Shape[0] || b.Shape[1] != w.Shape[1] || a.Shape[1] != b.Shape[0])
                throw new CheckpointException(adapter.Path,
                    $"'{a.Name}' {CheckpointFormat.ShapeText(a.Shape)} and '{b.Name}' {CheckpointFormat.ShapeText(b.Shape)} do not fit '{weightName}' {CheckpointFormat.ShapeText(w.Shape)}");
            tensors[i] = NamedTensor.FromFloats(w.Name, w.Shape, AddProduct(w.AsFloats(), a.AsFloats(), b.AsFloats(), (int)w.Shape[0], (int)a.Shape[1], (int)w.Shape[1], scale));
        }
        foreach (var (weightName, delta) in adapter.TokenRowDeltas())
        {
            if (!index.TryGetValue(weightName, out int i))
                throw new CheckpointException(adapter.Path, $"trains rows of '{weightName}', a tensor the base does not have");
            var table = tensors[i];
            if (table.Shape.Length != 2 || table.Shape[1] != delta.Shape[1] || adapter.Config.TokenRows[^1] >= table.Shape[0])
                throw new CheckpointException(adapter.Path,
                    $"'{delta.Name}' {CheckpointFormat.ShapeText(delta.Shape)} (token rows up to {adapter.Config.TokenRows[^1]}) does not fit '{weightName}' {CheckpointFormat.ShapeText(table.Shape)}");
            tensors[i] = NamedTensor.FromFloats(table.Name, table.Shape, AddRows(table.AsFloats(), delta.AsFloats(), adapter.Config.TokenRows, (int)table.Shape[1], sign));
        }
        var config = new Dictionary<string, string>(source.Header.Config, StringComparer.Ordinal);
        if (sign > 0) config[MergedKey] = adapter.Path;
        else config.Remove(MergedKey);
        return new Checkpoint
        {
            Header = source.Header with { Created = DateTimeOffset.UtcNow, Config = config },
            Tensors = tensors,
            OptimizerState = [],    // the moments belong to the weights before the merge
            RngState = source.RngState,
            TokenizerJson = source.TokenizerJson,
        };
    }

    /// <summary>Table [vocab, d] with sign · delta[i] added to row rows[i]: one float addition each, as the graph's W + onehot·delta.</summary>
    private static float[] AddRows(float[] table, float[] delta, IReadOnlyList<int> rows, int d, int sign)
    {
        var result = (float[])table.Clone();
        for (int i = 0; i < rows.Count; i++)
            for (int j = 0; j < d; j++) result[rows[i] * d + j] = sign > 0 ? table[rows[i] * d + j] + delta[i * d + j] : table[rows[i] * d + j] - delta[i * d + j];
        return result;
    }

    /// <summary>W [n, m] + scale · A [n, r] · B [r, m], each element summed in double and rounded once.</summary>
    private static float[] AddProduct(float[] w, float[] a, float[] b, int n, int r, int m, double scale)
    {
        var result = new float[w.Length];
        var row = new double[m];
        for (int i = 0; i < n; i++)
        {
            Array.Clear(row);
            for (int k = 0; k < r; k++)
            {
                double aik = a[i * r + k];
                for (int j = 0; j < m; j++) row[j] += aik * b[k * m + j];
            }
            for (int j = 0; j < m; j++) result[i * m + j] = (float)(w[i * m + j] + scale * row[j]);
        }
        return result;
    }
}
