using System.Diagnostics;
using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>
/// How the steps of each stage are fitted to the budget. The model file's recipe is the full size;
/// each stage's ms/step is measured by a short probe of that stage (<see cref="StepProbe"/>) before it runs.
/// <list type="number">
/// <item>A fifth of the budget is kept back for what is not training steps: compiling, the probes and the
/// held-out evaluations.</item>
/// <item>Pre-training and SFT get two thirds of the rest, at their recipe's ratio: one scale
/// s = min(1, share / (recipe steps × ms/step)) multiplies both step counts (the SFT step costs the
/// pre-training step: same model, same batch). SFT takes fewer when pre-training ran slower than its
/// probe said (a busy machine): what fits in the rest of the share at pre-training's measured wall time per step.</item>
/// <item>RL gets whatever is left when it starts, less what the final evaluation will take (measured on
/// the evaluation after SFT, twice: GRPO's own held-out passes and the report card's), at most its recipe.</item>
/// </list>
/// A budget above the recipe's time runs the recipe as it is: the budget is a ceiling, not a target.
/// The step counts are a plan from probes; the ceiling is enforced by deadlines (<see cref="RunDeadline"/>):
/// pre-training must end by its part of the share (at the recipe's ratio), SFT by the share's end, RL by
/// the budget's end less the final evaluation's measured time, and that evaluation asks fewer problems
/// when less than its time is left (<see cref="ProblemsThatFit"/>).
/// </summary>
public sealed class StageBudget(double seconds)
{
    public const double Reserve = 0.2, PretrainAndSftShare = 2.0 / 3;

    private readonly Stopwatch _clock = Stopwatch.StartNew();
    private double _shareEnds = double.PositiveInfinity, _pretrainingEnds = double.PositiveInfinity;

    public double Seconds { get; } = seconds;
    public double Elapsed => _clock.Elapsed.TotalSeconds;
    public double Remaining => Math.Max(0, Seconds - Elapsed);

    /// <summary>The fraction of the recipe pre-training and SFT run at (1 until <see cref="PlanPretrainingAndSft"/>).</summary>
    public double Scale { get; private set; } = 1;

    /// <summary>Sets <see cref="Scale"/> from the recipe's two step counts and the measured seconds per step.</summary>
    public double PlanPretrainingAndSft(long pretrainSteps, long sftSteps, double secondsPerStep)
    {
        double share = Remaining * (1 - Reserve) * PretrainAndSftShare;
        double full = (pretrainSteps + sftSteps) * secondsPerStep;
        _shareEnds = Elapsed + share;
        _pretrainingEnds = pretrainSteps + sftSteps <= 0 ? _shareEnds : Elapsed + share * pretrainSteps / (pretrainSteps + sftSteps);
        return Scale = full <= 0 ? 1 : Math.Min(1, share / full);
    }

    /// <summary>A recipe's step count at <see cref="Scale"/>; at least one step.</summary>
    public long Scaled(long recipeSteps) => Math.Max(1, (long)Math.Round(recipeSteps * Scale));

    /// <summary>
    /// <see cref="Scaled"/>, or fewer when that many steps at <paramref name="secondsPerStep"/> (as measured
    /// so far) would run past the end of pre-training and SFT's share; at least one.
    /// </summary>
    public long ScaledWithinShare(long recipeSteps, double secondsPerStep)
    {
        long scaled = Scaled(recipeSteps);
        if (double.IsInfinity(_shareEnds) || !(secondsPerStep > 0)) return scaled;
        return Math.Clamp((long)Math.Floor((_shareEnds - Elapsed) / secondsPerStep), 1, scaled);
    }

    /// <summary>Pre-training's ceiling: its part of the share, at the recipe's ratio of steps (none before <see cref="PlanPretrainingAndSft"/>).</summary>
    public RunDeadline PretrainingDeadline => At(_pretrainingEnds);

    /// <summary>SFT's ceiling: the end of pre-training and SFT's share.</summary>
    public RunDeadline SftDeadline => At(_shareEnds);

    /// <summary>A ceiling <paramref name="keepSeconds"/> before the budget's end.</summary>
    public RunDeadline DeadlineKeeping(double keepSeconds) => At(Seconds - keepSeconds);

    /// <summary>
    /// How many of <paramref name="problems"/> an evaluation measured at <paramref name="secondsForAll"/> for all
    /// of them can ask in what is left of the budget (proportionally, with a tenth kept for its fixed costs); at least one.
    /// </summary>
    public int ProblemsThatFit(int problems, double secondsForAll)
    {
        if (!(secondsForAll > 0) || Remaining >= secondsForAll) return problems;
        return Math.Clamp((int)Math.Floor(problems * 0.9 * Remaining / secondsForAll), 1, problems);
    }

    private RunDeadline At(double elapsed) => new(() => Elapsed, elapsed);

    /// <summary>The steps that fit in what is left after keeping <paramref name="keepSeconds"/>, at most <paramref name="recipeSteps"/>; at least one.</summary>
    public long Fit(long recipeSteps, double secondsPerStep, double keepSeconds)
    {
        double left = Remaining - keepSeconds;
        if (secondsPerStep <= 0) return recipeSteps;
        return Math.Clamp((long)Math.Floor(left / secondsPerStep), 1, recipeSteps);
    }
}
