using Dataflow.Engine.Compile;

namespace Dataflow.Runner.Training;

/// <summary>Everything <c>dataflow train</c> was asked to do; null means "the model file's default".</summary>
public sealed record TrainSettings
{
    public required string ModelPath { get; init; }
    public required string Data { get; init; }
    public int? Epochs { get; init; }
    public int? Batch { get; init; }
    public double? LearningRate { get; init; }
    public int Seed { get; init; } = 1;
    public string? Preset { get; init; }
    public string[] Overrides { get; init; } = [];
    public string? CheckpointPath { get; init; }
    public string? ResumePath { get; init; }
    public bool Json { get; init; }
    public string Backend { get; init; } = "cpu";
    public int Verbose { get; init; }
    public CompileOptions Compile { get; init; } = CompileOptions.Default;
}

/// <summary>What a training run reports at the end (also as <c>--json</c>).</summary>
public sealed record TrainResult(double FinalLoss, long Steps, int Epochs, double ValidationLoss, double ValidationAccuracy, double Seconds);
