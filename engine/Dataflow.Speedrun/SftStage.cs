using Dataflow.Chat;
using Dataflow.Chat.Sft;
using Dataflow.Engine;

namespace Dataflow.Speedrun;

/// <summary>
/// Supervised fine-tuning on the synthetic conversations (<see cref="SftRun"/>, as <c>sft --data synthetic</c>)
/// from the base, at the budget's scale of the recipe's SFT steps (fewer if pre-training ran slower than its probe), stopping
/// at the end of pre-training and SFT's share at the latest; every chat task is scored before and after.
/// </summary>
public sealed class SftStage : ISpeedrunStage
{
    public string Name => "sft";

    public StageResult Run(SpeedrunContext context)
    {
        if (context.Checkpoint is not { } from) throw new ConfigurationException("SFT needs a base checkpoint from an earlier stage");
        var started = context.Budget.Elapsed;
        var before = context.Scores ?? context.Score(from);
        long steps = context.Budget.ScaledWithinShare(context.Recipe.SftSteps, context.SecondsPerStep);
        string checkpoint = context.PathOf("sft.ckpt");
        var (plan, description) = SftRun.Plan(new SftSettings
        {
            Data = SyntheticCorpus.Name, CheckpointPath = checkpoint, Steps = checked((int)steps), EvalCount = 0, Seed = context.Settings.Seed,
        }, SftModel.Open(from), context.Words);
        context.Say(description);
        var run = context.Train(Name, plan, context.Budget.SftDeadline);
        var result = run.Result!;
        context.Checkpoint = checkpoint;
        // RL and the final evaluation still need the budget: when less than two full measurements' time is
        // left, this one asks fewer problems (RL's "before" is then on as many).
        int problems = context.Budget.ProblemsThatFit(context.Settings.EvalCount, 2 * context.ScoringSeconds);
        var after = context.Score(checkpoint, problems);
        var notes = StageResult.BudgetNotes(result, steps).ToList();
        if (problems < context.Settings.EvalCount)
            notes.Add($"evaluation after SFT sized to the budget: {problems} of {context.Settings.EvalCount} held-out problems per task");
        return new StageResult(Name, context.Budget.Elapsed - started)
        {
            Steps = result.Steps, RecipeSteps = context.Recipe.SftSteps, PlannedSteps = steps, StoppedAtBudget = result.StoppedAtDeadline,
            Notes = notes, Checkpoint = checkpoint, Description = description,
            Metrics =
            [
                StageResult.Metric("ms_per_step", PretrainStage.MillisecondsPerStep(run)),
                StageResult.Metric("val_loss_before", run.FirstValidationLoss),
                StageResult.Metric("train_loss", result.FinalLoss),
                StageResult.Metric("val_loss", result.ValidationLoss),
                StageResult.Metric("mean_accuracy_before", before.Average(s => s.Accuracy)),
                StageResult.Metric("mean_accuracy", after.Average(s => s.Accuracy)),
            ],
            Accuracies = SpeedrunContext.Compare(before, after),
        };
    }
}
