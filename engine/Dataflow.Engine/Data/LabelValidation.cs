namespace Dataflow.Engine.Data;

/// <summary>
/// A classifier's labels must be class indices of the model: 0 ≤ label &lt; classes. Checked before
/// training, because a label out of range is not an error the kernels report (one-hot of it is all
/// zeros, a gather reads past the table) and an epoch would be spent on it.
/// </summary>
public static class LabelValidation
{
    /// <summary>Throws a DataException naming the first label outside [0, <paramref name="classes"/>) and where it is.</summary>
    public static void RequireClassIndices(ReadOnlySpan<int> labels, long classes, string source)
    {
        if (classes <= 0) throw new DataException($"the model must have at least one class, got classes = {classes}");
        int max = -1, maxAt = -1;
        for (int i = 0; i < labels.Length; i++)
        {
            if (labels[i] < 0)
                throw new DataException($"{source}: example {i} has the label {labels[i]}; labels must be class indices 0..{classes - 1}");
            if (labels[i] > max) (max, maxAt) = (labels[i], i);
        }
        if (max >= classes)
            throw new DataException(
                $"{source}: example {maxAt} has the label {max}, but the model has classes = {classes} (labels 0..{classes - 1}); " +
                $"the data needs classes = {max + 1} or more");
    }

    /// <summary>As above for every split of a data set.</summary>
    public static void RequireClassIndices(Dataset data, long classes, string source) =>
        RequireClassIndices(data.Labels, classes, source);
}
