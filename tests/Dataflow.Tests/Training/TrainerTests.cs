using System.Text.Json;
using Dataflow.Backends.Cpu;
using Dataflow.Engine.Sessions;
using Dataflow.Tests.Support;
using Dataflow.Training;

namespace Dataflow.Tests.Training;

/// <summary>The one training loop on a small model: what it reports, resume, early stop, and that it never checkpoints a diverged run.</summary>
public sealed class TrainerTests
{
    [Fact]
    public void A_run_reports_every_step_and_evaluation_to_its_observers()
    {
        var observer = new RecordingObserver();
        var result = Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss()), new CpuBackend(), observer);

        Assert.Equal(Enumerable.Range(1, 12).Select(i => (long)i), observer.Steps.Select(s => s.Step));
        Assert.All(observer.Steps, s => Assert.Equal((TinyRuns.Batch, 1e-3), (s.Examples, s.LearningRate)));
        Assert.Equal([4L, 8, 12], observer.Evaluations.Select(e => e.Step));
        // The training loss of an evaluation is the mean of the steps since the one before.
        Assert.Equal(observer.Steps.Skip(8).Average(s => s.Loss), observer.Evaluations[^1].TrainLoss, 6);
        Assert.Equal(result, observer.Result);
        Assert.Equal(observer.Evaluations[^1].Evaluation.Loss, result.ValidationLoss);
        Assert.Equal(12, result.Steps);
    }

    [Fact]
    public void A_resumed_run_ends_exactly_where_a_straight_one_does()
    {
        using var dir = new TempDirectory();
        var straight = Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss()), new CpuBackend());
        Assert.Throws<OperationCanceledException>(() => Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss(), checkpoint: dir.File("half.ckpt")),
            new CpuBackend(), new RecordingObserver { KillAfterEvaluationAt = 8 }));

        var resumed = Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss()) with { ResumePath = dir.File("half.ckpt") }, new CpuBackend());

        Assert.Equal(12, resumed.Steps);
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss);
        Assert.Equal(straight.ValidationLoss, resumed.ValidationLoss);
    }

    [Fact]
    public void Early_stop_ends_the_run_after_patience_evaluations_without_a_better_loss()
    {
        var observer = new RecordingObserver();
        var result = Trainer.Run(TinyRuns.Plan(new ConstantLoss(), steps: 40) with { Patience = 2 }, new CpuBackend(), observer);

        // Step 4 sets the best; 8 and 12 do not beat it.
        Assert.Equal(12, result.Steps);
        Assert.Equal([4L, 8, 12], observer.Evaluations.Select(e => e.Step));
        Assert.Contains(observer.Messages, m => m.StartsWith("early stop at step 12", StringComparison.Ordinal));
    }

    [Fact]
    public void A_loss_that_becomes_NaN_stops_the_run_and_leaves_the_last_good_checkpoint_as_it_was()
    {
        using var dir = new TempDirectory();
        string checkpoint = dir.File("good.ckpt");
        Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss(), steps: 4, checkpoint: checkpoint), new CpuBackend());
        var good = File.ReadAllBytes(checkpoint);

        // One step at this rate throws every weight to ±1e30; the next forward pass overflows.
        var e = Assert.Throws<TrainingDivergedException>(() =>
            Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss(), steps: 8, lr: 1e30, checkpoint: checkpoint), new CpuBackend()));

        Assert.Equal(2, e.Step);
        Assert.StartsWith("step 2: the loss became NaN (kernel k", e.Message);
        Assert.Contains("from finite inputs", e.Message);
        Assert.Contains("; no checkpoint was written", e.Message);
        Assert.Equal(good, File.ReadAllBytes(checkpoint));
    }

    [Fact]
    public void A_parameter_that_is_not_finite_is_never_checkpointed_even_when_the_loss_is()
    {
        using var dir = new TempDirectory();
        string checkpoint = dir.File("good.ckpt");
        Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss(), steps: 4, checkpoint: checkpoint), new CpuBackend());
        var good = File.ReadAllBytes(checkpoint);

        var e = Assert.Throws<TrainingDivergedException>(() =>
            Trainer.Run(TinyRuns.Plan(new PoisonsAParameter(), steps: 4, checkpoint: checkpoint), new CpuBackend()));

        Assert.Equal(4, e.Step);
        Assert.Matches("^step 4: parameter '.+' holds NaN; no checkpoint was written", e.Message);
        Assert.Equal(good, File.ReadAllBytes(checkpoint));
    }

    [Fact]
    public void The_metrics_log_has_one_object_per_step_and_one_per_evaluation()
    {
        var writer = new StringWriter();
        Trainer.Run(TinyRuns.Plan(new TinyRuns.FixedBatchLoss()), new CpuBackend(), new JsonlMetricsObserver(writer));

        var lines = writer.ToString().Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var steps = lines.Where(l => l.GetProperty("event").GetString() == "step").ToList();
        var evaluations = lines.Where(l => l.GetProperty("event").GetString() == "eval").ToList();
        Assert.Equal(Enumerable.Range(1, 12), steps.Select(s => s.GetProperty("step").GetInt32()));
        Assert.All(steps, s =>
        {
            Assert.True(s.GetProperty("loss").GetDouble() > 0);
            Assert.Equal(1e-3, s.GetProperty("lr").GetDouble());
            Assert.True(s.GetProperty("examples_per_second").GetDouble() > 0);
        });
        Assert.Equal([4, 8, 12], evaluations.Select(e => e.GetProperty("step").GetInt32()));
        Assert.All(evaluations, e => Assert.True(e.GetProperty("val_loss").GetDouble() > 0 && e.GetProperty("train_loss").GetDouble() > 0));
        Assert.Equal(lines.Count, steps.Count + evaluations.Count);
    }

    private sealed class ConstantLoss : IEvaluator
    {
        public Evaluation Evaluate(Session session) => new(1.0, [Evaluation.Metric("val_loss", 1.0)]);
    }

    /// <summary>Writes a NaN into the first parameter, as a kernel bug or an overflow in the update would.</summary>
    private sealed class PoisonsAParameter : IEvaluator
    {
        public Evaluation Evaluate(Session session)
        {
            var slot = session.Parameters.Slots.First();
            var values = new float[slot.Elements];
            values[0] = float.NaN;
            session.Parameters.Write(slot.Value, values);
            return new Evaluation(0.5, [Evaluation.Metric("val_loss", 0.5)]);
        }
    }
}
