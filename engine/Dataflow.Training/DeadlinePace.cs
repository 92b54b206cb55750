namespace Dataflow.Training;

/// <summary>
/// What the <see cref="Trainer"/> measures, on its deadline's clock, to decide whether one more step fits:
/// the wall time of a step (its batch included: for GRPO the rollouts), and of the evaluation and checkpoint
/// that close the run. The first step is not counted once others are (it compiles), and the latest closing stands.
/// </summary>
internal sealed class DeadlinePace(RunDeadline deadline)
{
    private double _first = double.NaN, _sum;
    private long _after;

    public RunDeadline Deadline { get; } = deadline;
    public double Now => Deadline.Now();

    /// <summary>The seconds a step takes: the mean of those after the first, or the first alone.</summary>
    public double SecondsPerStep => _after > 0 ? _sum / _after : double.IsNaN(_first) ? 0 : _first;

    /// <summary>What the last evaluation and checkpoint took (0 until one ran).</summary>
    public double ClosingSeconds { get; private set; }

    public void Stepped(double startedAt)
    {
        double seconds = Now - startedAt;
        if (double.IsNaN(_first)) _first = seconds;
        else (_sum, _after) = (_sum + seconds, _after + 1);
    }

    public void Closed(double startedAt) => ClosingSeconds = Now - startedAt;
}
