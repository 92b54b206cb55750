namespace Dataflow.Training;

/// <summary>Everything <c>dataflow train MODEL --task NAME</c> was asked to do; null means "the model file's default".</summary>
public sealed record Seq2SeqSettings : RunSettings
{
    /// <summary>reverse | sort (<see cref="Tasks.TransductionTasks"/>).</summary>
    public required string Task { get; init; }
    /// <summary>Total optimizer steps to reach (a resumed run continues to this count).</summary>
    public long? Steps { get; init; }
    /// <summary>Warm-up steps of the schedule.</summary>
    public long? Warmup { get; init; }
    /// <summary>Shortest and longest source, for training and the held-out set.</summary>
    public int MinLength { get; init; } = 5;
    public int MaxLength { get; init; } = 20;
    /// <summary>End on the mean of the parameters at this many snapshots before the last step; null: the model file's <c>average</c>.</summary>
    public int? Average { get; init; }
    /// <summary>Evaluate (and checkpoint) every this many steps; null: a tenth of the run.</summary>
    public long? EvalEvery { get; init; }
    /// <summary>Held-out examples per source length.</summary>
    public int EvalPerLength { get; init; } = Tasks.HeldOutSet.DefaultPerLength;
}
