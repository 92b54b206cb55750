namespace Dataflow.Training;

/// <summary>Everything <c>dataflow train MODEL --data NAME</c> was asked to do; null means "the model file's default".</summary>
public sealed record ClassifierSettings : RunSettings
{
    /// <summary>The dataset (<see cref="DataSources"/>): fashion-mnist.</summary>
    public required string Data { get; init; }
    /// <summary>Total epochs to reach (a resumed run continues to this count).</summary>
    public int? Epochs { get; init; }
}
