using Dataflow.Chat;
using Dataflow.Engine;
using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>
/// Base pre-training on the synthetic corpus (<see cref="LanguageModelRun"/>, as <c>train MODEL --text synthetic</c>):
/// a probe measures its ms/step, which sets the budget's scale for it and SFT; then the scaled run writes base.ckpt,
/// stopping at its deadline (its part of the share) if the machine slows down.
/// </summary>
public sealed class PretrainStage : ISpeedrunStage
{
    /// <summary>Steps the probe runs: a pre-training step is a fraction of a second.</summary>
    public const int ProbeSteps = 8;

    public string Name => "pretrain";

    public StageResult Run(SpeedrunContext context)
    {
        if (context.Corpus is null || context.Tokenizer is null) throw new ConfigurationException("pre-training needs the tokenizer stage before it");
        var started = context.Budget.Elapsed;
        var recipe = context.Recipe;
        double probe = StepProbe.SecondsPerStep(Plan(context, recipe.PretrainSteps, null).Plan, context.Backend(), ProbeSteps);
        double scale = context.Budget.PlanPretrainingAndSft(recipe.PretrainSteps, recipe.SftSteps, probe);
        long steps = context.Budget.Scaled(recipe.PretrainSteps);
        context.Say($"pretrain: {1000 * probe:F1} ms/step measured; scale {scale:F3} of the recipe ({recipe.PretrainSteps} pre-training + {recipe.SftSteps} SFT steps) → {steps} steps");
        string checkpoint = context.PathOf("base.ckpt");
        var (plan, description) = Plan(context, steps, checkpoint);
        context.Say(description);
        // No pass over the whole validation split at the end: it is time the deadline cannot see (23 s on a
        // quiet 2-core host, 120 s on a loaded one); val_loss is the periodic evaluation's, as during the run.
        var run = context.Train(Name, plan with { FinalEvaluator = null }, context.Budget.PretrainingDeadline);
        var result = run.Result!;
        context.Checkpoint = checkpoint;
        context.Scores = null;
        return new StageResult(Name, context.Budget.Elapsed - started)
        {
            Steps = result.Steps, RecipeSteps = recipe.PretrainSteps, PlannedSteps = steps, StoppedAtBudget = result.StoppedAtDeadline,
            Notes = StageResult.BudgetNotes(result, steps), Checkpoint = checkpoint, Description = description,
            Metrics =
            [
                StageResult.Metric("ms_per_step", MillisecondsPerStep(run)),
                StageResult.Metric("probe_ms_per_step", 1000 * probe),
                StageResult.Metric("val_loss_before", run.FirstValidationLoss),
                StageResult.Metric("train_loss", result.FinalLoss),
                StageResult.Metric("val_loss", result.ValidationLoss),
            ],
        };
    }

    private static (TrainingPlan Plan, string Description) Plan(SpeedrunContext context, long steps, string? checkpoint) =>
        LanguageModelRun.Plan(new LanguageModelSettings
        {
            ModelPath = context.Settings.ModelPath, Overrides = context.Settings.Overrides, TextPath = SyntheticCorpus.Name,
            Text = context.Corpus, TokenizerInstance = context.Tokenizer, Tokenizer = TokenizerStage.Spec,
            Steps = checked((int)steps), Seed = context.Settings.Seed, CheckpointPath = checkpoint,
        });

    /// <summary>The mean time of an optimizer step (forward, backward, update; not making its batch, so not GRPO's rollouts, nor the evaluations).</summary>
    internal static double MillisecondsPerStep(StageRecorder run) => run.Steps.Count == 0 ? double.NaN : 1000 * run.Steps.Average(s => s.Seconds);
}
