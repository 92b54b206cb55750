using Dataflow.Speedrun;

namespace Dataflow.Tests.Speedrun;

/// <summary>How the budget scales the recipe: pre-training and SFT share one scale, RL takes what is left, nothing exceeds the recipe.</summary>
public sealed class StageBudgetTests
{
    [Fact]
    public void A_tight_budget_scales_pretraining_and_sft_by_one_factor_to_their_share()
    {
        var budget = new StageBudget(seconds: 600);
        // The recipe's 3000 + 1500 steps at 0.1 s/step would take 450 s; the share of 600 s is 0.8 × 2/3 of it (a little less: the clock runs).
        double scale = budget.PlanPretrainingAndSft(3000, 1500, 0.1);
        Assert.InRange(scale, 320.0 / 450 * 0.99, 320.0 / 450);
        Assert.Equal((long)Math.Round(3000 * scale), budget.Scaled(3000));
        Assert.Equal((long)Math.Round(1500 * scale), budget.Scaled(1500));
    }

    [Fact]
    public void A_budget_larger_than_the_recipe_runs_the_recipe_as_it_is()
    {
        var budget = new StageBudget(seconds: 3600);
        Assert.Equal(1, budget.PlanPretrainingAndSft(3000, 1500, 0.1));
        Assert.Equal(3000, budget.Scaled(3000));
        Assert.Equal(100, budget.Fit(100, secondsPerStep: 1, keepSeconds: 60));
    }

    [Fact]
    public void Rl_takes_what_is_left_after_what_it_keeps_and_never_less_than_one_step()
    {
        var budget = new StageBudget(seconds: 100);
        Assert.InRange(budget.Fit(1000, secondsPerStep: 2, keepSeconds: 20), 39, 40);    // (100 − 20) / 2, less the clock's few ms
        Assert.Equal(1, budget.Fit(1000, secondsPerStep: 2, keepSeconds: 500));
        var tiny = new StageBudget(seconds: 1);
        tiny.PlanPretrainingAndSft(3000, 1500, 10);
        Assert.Equal(1, tiny.Scaled(3000));
    }

    [Fact]
    public void Sft_takes_fewer_steps_when_pretraining_ran_slower_than_its_probe()
    {
        var budget = new StageBudget(seconds: 600);
        double scale = budget.PlanPretrainingAndSft(3000, 1500, 0.1);    // a share of about 320 s
        Assert.Equal(budget.Scaled(1500), budget.ScaledWithinShare(1500, 0.1));
        // Measured at ten times the probe: the whole share holds only about 320 one-second steps.
        Assert.InRange(budget.ScaledWithinShare(1500, 1.0), 310, 320);
        Assert.True(budget.ScaledWithinShare(1500, 1.0) < (long)Math.Round(1500 * scale));
        Assert.Equal(1, budget.ScaledWithinShare(1500, 1000));
    }

    [Fact]
    public void The_deadlines_split_the_share_at_the_recipes_ratio_and_rl_keeps_the_final_evaluations_time()
    {
        var budget = new StageBudget(seconds: 600);
        budget.PlanPretrainingAndSft(3000, 1500, 0.1);    // a share of 320 s from now (0.8 × 2/3 × 600)
        Assert.InRange(budget.PretrainingDeadline.At, 213.3, 213.4);    // 3000 / 4500 of it
        Assert.InRange(budget.SftDeadline.At, 320, 320.1);
        Assert.Equal(570, budget.DeadlineKeeping(30).At);
        Assert.True(budget.SftDeadline.Allows(300));
        Assert.False(budget.SftDeadline.Allows(321));
    }

    [Fact]
    public void A_final_evaluation_asks_fewer_problems_when_less_than_its_time_is_left()
    {
        var budget = new StageBudget(seconds: 100);
        Assert.Equal(100, budget.ProblemsThatFit(100, secondsForAll: 50));
        Assert.InRange(budget.ProblemsThatFit(100, secondsForAll: 200), 44, 45);    // 0.9 × 100 × 100 s / 200 s, less the clock's few ms
        Assert.Equal(1, budget.ProblemsThatFit(100, secondsForAll: 1e9));
    }
}
