namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// How strict a checkpoint load is. By default a checkpoint whose parameters or optimizer state hold
/// NaN or ±∞ is refused: every later step, evaluation or sample from it would be NaN too, and a
/// run that diverged should not pass for a model. <see cref="AllowNonFinite"/> loads it anyway (to
/// inspect or debug what went wrong).
/// </summary>
public sealed record CheckpointLoadOptions(bool AllowNonFinite = false)
{
    public static CheckpointLoadOptions Default { get; } = new();
}
