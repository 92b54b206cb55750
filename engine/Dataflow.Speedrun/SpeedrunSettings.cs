using Dataflow.Chat.Tasks;
using Dataflow.Engine;

namespace Dataflow.Speedrun;

/// <summary>Everything <c>dataflow speedrun</c> was asked to do.</summary>
public sealed record SpeedrunSettings
{
    public const double DefaultMinutes = 45;
    /// <summary>The task SFT half-knows (not in its mixture; the column method carries over), so GRPO's groups disagree.</summary>
    public const string DefaultRlTask = "subtraction-hard";
    public const int DefaultEvalCount = 100;

    /// <summary>The chat model file; its <c>train(...)</c> line is the full-size recipe.</summary>
    public required string ModelPath { get; init; }

    /// <summary>Model parameters to override (<c>--set</c>), e.g. a tiny model for tests.</summary>
    public IReadOnlyDictionary<string, string> Overrides { get; init; } = new Dictionary<string, string>();

    /// <summary>Where every stage writes its checkpoint and metrics log, and the report card goes.</summary>
    public required string OutputDirectory { get; init; }

    /// <summary>The time budget of the whole run; each stage's steps are scaled to fit it (<see cref="StageBudget"/>).</summary>
    public double Minutes { get; init; } = DefaultMinutes;

    public int Seed { get; init; } = 1;

    /// <summary>The chat task GRPO practises (its verifier is the reward).</summary>
    public string RlTask { get; init; } = DefaultRlTask;

    /// <summary>Held-out problems per chat task in each accuracy measurement.</summary>
    public int EvalCount { get; init; } = DefaultEvalCount;

    /// <summary>The word list of the spelling task; null: the system's (<see cref="WordList.Load"/>).</summary>
    public Func<WordList>? Words { get; init; }

    public SpeedrunSettings Validated()
    {
        if (!(Minutes > 0) || double.IsInfinity(Minutes)) throw new ConfigurationException($"--minutes {Minutes}: the budget must be a positive number of minutes");
        if (EvalCount < 1) throw new ConfigurationException($"--eval-count {EvalCount}: must be at least 1");
        if (!ChatTasks.Names.Contains(RlTask) || RlTask == "tool-arithmetic")
            throw new ConfigurationException($"--rl-task {RlTask}: expected one of {string.Join(", ", ChatTasks.Names.Where(n => n != "tool-arithmetic"))}");
        return this;
    }
}
