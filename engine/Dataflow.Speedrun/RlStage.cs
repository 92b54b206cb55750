using System.Globalization;
using Dataflow.Chat.Rl;
using Dataflow.Chat.Tasks;
using Dataflow.Engine;
using Dataflow.Generation;
using Dataflow.Reinforcement;

namespace Dataflow.Speedrun;

/// <summary>
/// GRPO on one chat task from the SFT checkpoint (<see cref="ChatTaskGrpo"/>, as <c>dataflow rl</c> runs it with
/// its defaults): a probe measures the seconds of a step (rollouts included), and the run takes what the
/// budget has left, keeping the time of two full evaluations (<see cref="StageBudget"/>), at most the recipe.
/// The run stops at the budget's end less one full evaluation's time, and the final evaluation (the report
/// card's) asks fewer problems when less than that is left.
/// </summary>
public sealed class RlStage : ISpeedrunStage
{
    public const int TrainProblems = 2000;

    /// <summary>Steps the probe runs: a GRPO step samples 128 completions, so few.</summary>
    public const int ProbeSteps = 4;

    public string Name => "rl";

    public StageResult Run(SpeedrunContext context)
    {
        if (context.Checkpoint is not { } from) throw new ConfigurationException("RL needs a chat checkpoint from an earlier stage");
        var started = context.Budget.Elapsed;
        var before = context.Scores ?? context.Score(from);
        var task = ChatTasks.Create(context.Settings.RlTask, context.Words);
        var recipe = context.Recipe;
        GrpoSettings Settings(long steps, string? checkpoint) => new()
        {
            Group = Recipe.RlGroup, PromptsPerStep = Recipe.RlPromptsPerStep, Steps = steps, EvalEvery = Math.Max(1, steps / 4),
            LearningRate = recipe.RlLearningRate, Seed = context.Settings.Seed, FromCheckpoint = from, CheckpointPath = checkpoint,
            Rollout = ChatTaskGrpo.Rollout(),
        };
        double probe;
        // The probe's steps count against RL's own deadline: on a slow machine they are most of what it has.
        var deadline = context.Budget.DeadlineKeeping(context.ScoringSeconds);
        using (var probing = ChatTaskGrpo.Plan(task, Settings(recipe.RlSteps, null), TrainProblems, 1, context.Backend).Plan)
            probe = StepProbe.SecondsPerStep(probing.Plan, context.Backend(), ProbeSteps, deadline);
        long steps = context.Budget.Fit(recipe.RlSteps, probe, keepSeconds: 2 * context.ScoringSeconds);
        context.Say(string.Create(CultureInfo.InvariantCulture,
            $"rl: {probe:F2} s/step measured ({Recipe.RlGroup} × {Recipe.RlPromptsPerStep} rollouts); {context.Budget.Remaining:F0} s of the budget left → {steps} of the recipe's {recipe.RlSteps} steps"));
        string checkpoint = context.PathOf("rl.ckpt");
        var (grpo, train, heldOut) = ChatTaskGrpo.Plan(task, Settings(steps, checkpoint), TrainProblems, context.Settings.EvalCount, context.Backend);
        string description = $"GRPO on {task.Name} from {Path.GetFileName(from)}: group {Recipe.RlGroup} × {Recipe.RlPromptsPerStep} prompts per step, " +
                             $"{train.Prompts.Count} training / {heldOut.Prompts.Count} held-out problems, reward 1 when the verifier accepts the reply, " +
                             string.Create(CultureInfo.InvariantCulture, $"lr {recipe.RlLearningRate:G3}");
        context.Say(description);
        StageRecorder run;
        using (grpo) run = context.Train(Name, grpo.Plan, deadline);
        var result = run.Result!;
        context.Checkpoint = checkpoint;
        int problems = context.Budget.ProblemsThatFit(context.Settings.EvalCount, context.ScoringSeconds);
        var after = context.Score(checkpoint, problems);
        var notes = StageResult.BudgetNotes(result, steps).ToList();
        if (problems < context.Settings.EvalCount)
            notes.Add($"final evaluation sized to the budget: {problems} of {context.Settings.EvalCount} held-out problems per task");
        var heldOutCurve = run.Evaluations.Select(e => (e.Step, e.Evaluation.Accuracy)).ToList();
        var rewards = RewardCurve.Of(run.StepMetric(RolloutMetrics.MeanReward), run.StepMetric(RolloutMetrics.SkippedGroups), heldOutCurve);
        return new StageResult(Name, context.Budget.Elapsed - started)
        {
            Steps = result.Steps, RecipeSteps = recipe.RlSteps, PlannedSteps = steps, StoppedAtBudget = result.StoppedAtDeadline,
            Notes = notes, Checkpoint = checkpoint, Description = description,
            Metrics =
            [
                StageResult.Metric("ms_per_step", PretrainStage.MillisecondsPerStep(run)),
                StageResult.Metric("probe_s_per_step", probe),
                StageResult.Metric("heldout_pass@1_before", heldOutCurve.Count > 0 ? heldOutCurve[0].Accuracy : double.NaN),
                StageResult.Metric("heldout_pass@1", result.ValidationAccuracy),
                StageResult.Metric("mean_reward_first", rewards.First),
                StageResult.Metric("mean_reward_last", rewards.Last),
                StageResult.Metric("skipped_groups", rewards.SkippedGroups),
                StageResult.Metric("final_eval_problems", problems),
            ],
            Accuracies = SpeedrunContext.Compare(before, after),
            Rewards = rewards,
        };
    }
}
