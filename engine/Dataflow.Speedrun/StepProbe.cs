using System.Diagnostics;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;
using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>
/// Measures what one optimizer step of a plan costs, batch included (for GRPO the batch is the rollouts),
/// by running its first few steps without evaluating or checkpointing: the wall time from the second
/// step's report to the last one's over the steps between them, so neither compiling nor the first
/// step's cold code paths are counted. Under a deadline the probe stops like any run; with fewer than
/// three steps it takes the wall time of the whole probe (compiling included) per step, an overestimate.
/// </summary>
public static class StepProbe
{
    /// <param name="steps">Steps to run, at least 3 (two are not timed).</param>
    public static double SecondsPerStep(TrainingPlan plan, IBackend backend, int steps, RunDeadline? deadline = null)
    {
        if (steps < 3) throw new ArgumentOutOfRangeException(nameof(steps), steps, "a probe times the steps after the second");
        var clock = new StepTimes();
        Trainer.Run(plan with
        {
            Steps = steps, EvalEvery = steps, EvaluateFirst = false, Evaluator = new NoEvaluation(), FinalEvaluator = null,
            CheckpointPath = null, ResumePath = null, Averaging = null, Patience = 0, Deadline = deadline,
        }, backend, clock);
        return clock.SecondsPerStep;
    }

    private sealed class StepTimes : ITrainingObserver
    {
        private readonly long _started = Stopwatch.GetTimestamp();
        private readonly List<long> _at = [];

        public void OnStep(StepReport step) => _at.Add(Stopwatch.GetTimestamp());

        public double SecondsPerStep => _at.Count switch
        {
            0 => 0,
            < 3 => Stopwatch.GetElapsedTime(_started, _at[^1]).TotalSeconds / _at.Count,
            _ => Stopwatch.GetElapsedTime(_at[1], _at[^1]).TotalSeconds / (_at.Count - 2),
        };
    }

    /// <summary>A probe measures time only.</summary>
    private sealed class NoEvaluation : IEvaluator
    {
        public Evaluation Evaluate(Session session) => new(0, []);
    }
}
