namespace Dataflow.Engine.Data;

/// <summary>
/// Examples held in memory as one row-major feature array (Count × FeatureWidth) and one label per
/// example, so a batch is a few contiguous copies.
/// </summary>
public sealed class Dataset
{
    public Dataset(float[] features, int[] labels, int featureWidth)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(featureWidth);
        if (features.LongLength != (long)labels.Length * featureWidth)
            throw new ArgumentException($"{features.Length} features do not make {labels.Length} examples of width {featureWidth}", nameof(features));
        Features = features;
        Labels = labels;
        FeatureWidth = featureWidth;
    }

    public float[] Features { get; }
    public int[] Labels { get; }
    public int FeatureWidth { get; }
    public int Count => Labels.Length;

    public ReadOnlySpan<float> FeaturesOf(int index) => Features.AsSpan(index * FeatureWidth, FeatureWidth);

    /// <summary>A copy holding the given examples in the given order.</summary>
    public Dataset Select(ReadOnlySpan<int> indices)
    {
        var features = new float[(long)indices.Length * FeatureWidth];
        var labels = new int[indices.Length];
        for (int i = 0; i < indices.Length; i++)
        {
            FeaturesOf(indices[i]).CopyTo(features.AsSpan(i * FeatureWidth, FeatureWidth));
            labels[i] = Labels[indices[i]];
        }
        return new Dataset(features, labels, FeatureWidth);
    }
}
