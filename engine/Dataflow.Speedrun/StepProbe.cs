using System.Diagnostics;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;
using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>
/// Measures what one optimizer step of a plan costs, batch included (for GRPO the batch is the rollouts),
/// by running its first few steps without evaluating or checkpointing: the wall time between the first
/// and the last step's report over the steps between them, so compiling is not counted.
/// </summary>
public static class StepProbe
{
    public const int Steps = 3;

    public static double SecondsPerStep(TrainingPlan plan, IBackend backend)
    {
        var clock = new StepTimes();
        Trainer.Run(plan with
        {
            Steps = Steps, EvalEvery = Steps, EvaluateFirst = false, Evaluator = new NoEvaluation(), FinalEvaluator = null,
            CheckpointPath = null, ResumePath = null, Averaging = null, Patience = 0,
        }, backend, clock);
        return clock.SecondsPerStep;
    }

    private sealed class StepTimes : ITrainingObserver
    {
        private readonly List<long> _at = [];

        public void OnStep(StepReport step) => _at.Add(Stopwatch.GetTimestamp());

        public double SecondsPerStep => _at.Count < 2 ? 0 : Stopwatch.GetElapsedTime(_at[0], _at[^1]).TotalSeconds / (_at.Count - 1);
    }

    /// <summary>A probe measures time only.</summary>
    private sealed class NoEvaluation : IEvaluator
    {
        public Evaluation Evaluate(Session session) => new(0, []);
    }
}
