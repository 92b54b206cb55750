using System.Diagnostics;
using Dataflow.Chat;
using Dataflow.Chat.Tasks;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Tokenizers;
using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>
/// What the stages of one speedrun share: the settings, the recipe and the budget, a backend per run,
/// where to report, and what each stage hands the next (the corpus and tokenizer, the latest checkpoint,
/// its held-out scores and how long scoring took).
/// </summary>
public sealed class SpeedrunContext
{
    private readonly IReadOnlyList<ITrainingObserver> _observers;

    internal SpeedrunContext(SpeedrunSettings settings, StageBudget budget, Recipe recipe, Func<IBackend> backend, IReadOnlyList<ITrainingObserver> observers)
    {
        (Settings, Budget, Recipe, Backend, _observers) = (settings, budget, recipe, backend, observers);
        Words = settings.Words ?? (() => WordList.Load());
    }

    public SpeedrunSettings Settings { get; }
    public Recipe Recipe { get; }
    public StageBudget Budget { get; }

    /// <summary>A fresh backend; every training run and evaluation disposes its own.</summary>
    public Func<IBackend> Backend { get; }
    public Func<WordList> Words { get; }

    public string? Corpus { get; set; }
    public ITokenizer? Tokenizer { get; set; }

    /// <summary>The model the last stage wrote; the next stage starts from it.</summary>
    public string? Checkpoint { get; set; }

    /// <summary>The held-out scores of <see cref="Checkpoint"/> (the "before" of the next stage), and what measuring them took.</summary>
    public IReadOnlyList<ChatTaskScore>? Scores { get; set; }
    public double ScoringSeconds { get; set; }

    /// <summary>The last training stage's wall time per step, its evaluations included.</summary>
    public double SecondsPerStep { get; set; }

    public string PathOf(string file) => Path.Combine(Settings.OutputDirectory, file);

    /// <summary>A progress line for people (the runner's observers print it).</summary>
    public void Say(string line)
    {
        foreach (var observer in _observers) observer.OnMessage(line);
    }

    /// <summary>
    /// Runs a stage's plan under its <paramref name="deadline"/> (the budget's ceiling for it), reporting to
    /// the runner's observers, a metrics log DIR/STAGE.jsonl and the returned recorder.
    /// </summary>
    public StageRecorder Train(string stage, TrainingPlan plan, RunDeadline deadline)
    {
        var recorder = new StageRecorder();
        using var log = new JsonlMetricsObserver(PathOf(stage + ".jsonl"));
        var clock = Stopwatch.StartNew();
        var result = Trainer.Run(plan with { Deadline = deadline }, Backend(), [.. _observers, log, recorder]);
        SecondsPerStep = clock.Elapsed.TotalSeconds / Math.Max(1, result.Steps);
        return recorder;
    }

    /// <summary>
    /// Measures <paramref name="checkpoint"/> on every chat task (<paramref name="problems"/> each, by default
    /// the settings' count), keeping the scores as the latest, and the time as the latest full measurement's.
    /// </summary>
    public IReadOnlyList<ChatTaskScore> Score(string checkpoint, int? problems = null)
    {
        int count = problems ?? Settings.EvalCount;
        var clock = Stopwatch.StartNew();
        Scores = TaskScores.Of(checkpoint, Backend(), count, Settings.Seed, Words);
        if (count == Settings.EvalCount) ScoringSeconds = clock.Elapsed.TotalSeconds;
        Say($"held-out accuracy of {Path.GetFileName(checkpoint)}: {string.Join(", ", Scores.Select(s => s.Summary))} ({clock.Elapsed.TotalSeconds:F1} s)");
        return Scores;
    }

    /// <summary>Each task's accuracy before (<paramref name="before"/>, or NaN) and after.</summary>
    public static IReadOnlyList<TaskAccuracy> Compare(IReadOnlyList<ChatTaskScore>? before, IReadOnlyList<ChatTaskScore> after) =>
        [.. after.Select(a => new TaskAccuracy(a.Task, before?.FirstOrDefault(b => b.Task == a.Task)?.Accuracy ?? double.NaN, a.Accuracy))];
}
