namespace Dataflow.Training;

/// <summary>
/// Training produced a non-finite loss, parameter or optimizer moment. The run stops and writes no
/// checkpoint, so the last good checkpoint on disk keeps its bytes; the message names the step.
/// </summary>
public sealed class TrainingDivergedException(long step, string message) : Exception(message)
{
    public long Step { get; } = step;
}
