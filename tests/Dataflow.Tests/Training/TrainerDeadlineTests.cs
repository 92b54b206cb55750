using Dataflow.Backends.Cpu;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Checkpoints;
using Dataflow.Tests.Support;
using Dataflow.Training;

namespace Dataflow.Tests.Training;

/// <summary>
/// The Trainer's deadline on a fake clock that the run itself moves (10 s a step, a set cost per evaluation),
/// so where it stops is exact: before the step that, with the closing evaluation, would end past the deadline.
/// </summary>
public sealed class TrainerDeadlineTests
{
    [Fact]
    public void A_run_stops_before_the_step_that_would_pass_its_deadline_then_evaluates_and_checkpoints_there()
    {
        using var dir = new TempDirectory();
        var clock = new FakeClock(stepSeconds: 10, evaluationSeconds: 1);
        var observer = new RecordingObserver();
        var plan = TinyRuns.Plan(clock.Evaluator, steps: 12, evalEvery: 4, checkpoint: dir.File("late.ckpt")) with { Deadline = new RunDeadline(() => clock.Now, at: 35) };

        var result = Trainer.Run(plan, new CpuBackend(), clock, observer);

        // Steps 1..3 end at 10, 20, 30 s; a fourth would end at 40 > 35. The closing evaluation ends at 31 s.
        Assert.Equal(3, result.Steps);
        Assert.True(result.StoppedAtDeadline);
        Assert.Equal([3L], observer.Evaluations.Select(e => e.Step));
        Assert.Equal(31, clock.Now);
        Assert.True(clock.Now <= plan.Deadline!.At);
        Assert.Equal(3, CheckpointReader.Load(dir.File("late.ckpt")).Header.Step);
        Assert.Contains("stopped at the deadline after 3 of 12 steps", observer.Log);
    }

    [Fact]
    public void The_time_an_evaluation_takes_is_kept_for_the_one_that_closes_the_run()
    {
        var clock = new FakeClock(stepSeconds: 10, evaluationSeconds: 5);
        var observer = new RecordingObserver();
        var plan = TinyRuns.Plan(clock.Evaluator, steps: 12, evalEvery: 4) with { Deadline = new RunDeadline(() => clock.Now, at: 57) };

        var result = Trainer.Run(plan, new CpuBackend(), clock, observer);

        // After step 4's evaluation (45 s) a fifth step and its closing evaluation would end at 60 > 57,
        // though the step alone (55 s) would fit: the run stops at 4, already evaluated there.
        Assert.Equal(4, result.Steps);
        Assert.True(result.StoppedAtDeadline);
        Assert.Equal([4L], observer.Evaluations.Select(e => e.Step));
        Assert.Equal(45, clock.Now);
    }

    [Fact]
    public void A_deadline_that_is_never_reached_changes_nothing_and_the_first_step_is_always_taken()
    {
        var clock = new FakeClock(stepSeconds: 10, evaluationSeconds: 1);
        var roomy = Trainer.Run(TinyRuns.Plan(clock.Evaluator) with { Deadline = new RunDeadline(() => clock.Now, at: 1e6) }, new CpuBackend(), clock);
        Assert.Equal(12, roomy.Steps);
        Assert.False(roomy.StoppedAtDeadline);

        var late = new FakeClock(stepSeconds: 10, evaluationSeconds: 1);
        var past = Trainer.Run(TinyRuns.Plan(late.Evaluator) with { Deadline = new RunDeadline(() => late.Now, at: -1) }, new CpuBackend(), late);
        Assert.Equal(1, past.Steps);
        Assert.True(past.StoppedAtDeadline);
    }

    /// <summary>A clock that moves only when the run does: each step and each evaluation take the seconds given.</summary>
    private sealed class FakeClock(double stepSeconds, double evaluationSeconds) : ITrainingObserver
    {
        public double Now { get; private set; }

        public double EvaluationSeconds { get; } = evaluationSeconds;

        public IEvaluator Evaluator => new Timed(this);

        public void OnStep(StepReport step) => Now += stepSeconds;

        private sealed class Timed(FakeClock clock) : IEvaluator
        {
            private readonly TinyRuns.FixedBatchLoss _loss = new();

            public Evaluation Evaluate(Session session)
            {
                clock.Now += clock.EvaluationSeconds;
                return _loss.Evaluate(session);
            }
        }
    }
}
