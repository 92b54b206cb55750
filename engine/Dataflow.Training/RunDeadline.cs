using System.Diagnostics;

namespace Dataflow.Training;

/// <summary>
/// A wall-clock ceiling on a training run (<see cref="TrainingPlan.Deadline"/>): the <see cref="Trainer"/> takes
/// a step only when, at the pace measured so far, that step and the evaluation and checkpoint that may close
/// the run still end by <see cref="At"/>; otherwise it stops early, evaluated and checkpointed, and reports
/// <see cref="TrainResult.StoppedAtDeadline"/>. The first step of a run is always taken (a run that wrote
/// nothing would leave the next stage nothing to start from). The clock is injectable so a test can drive it.
/// </summary>
public sealed class RunDeadline(Func<double> now, double at)
{
    /// <summary>The seconds since some fixed origin, as <see cref="At"/> counts them.</summary>
    public Func<double> Now { get; } = now;

    /// <summary>When the run must be over, on <see cref="Now"/>'s clock.</summary>
    public double At { get; } = at;

    /// <summary>A deadline <paramref name="seconds"/> from now on the wall clock.</summary>
    public static RunDeadline In(double seconds)
    {
        var clock = Stopwatch.StartNew();
        return new RunDeadline(() => clock.Elapsed.TotalSeconds, seconds);
    }

    public double Remaining => At - Now();

    /// <summary>Whether work of <paramref name="seconds"/> started now still ends by the deadline.</summary>
    public bool Allows(double seconds) => Now() + seconds <= At;
}
