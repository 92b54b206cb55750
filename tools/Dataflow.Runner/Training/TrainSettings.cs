namespace Dataflow.Runner.Training;

/// <summary>Everything <c>dataflow train</c> was asked to do; null means "the model file's default".</summary>
public sealed record TrainSettings : RunSettings
{
    public required string Data { get; init; }
    public int? Epochs { get; init; }
    public int? Batch { get; init; }
    public double? LearningRate { get; init; }
}

/// <summary>What a training run reports at the end (also as <c>--json</c>).</summary>
public sealed record TrainResult(double FinalLoss, long Steps, int Epochs, double ValidationLoss, double ValidationAccuracy, double Seconds);
