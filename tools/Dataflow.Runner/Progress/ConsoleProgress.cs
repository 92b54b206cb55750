using System.Diagnostics;
using System.Globalization;
using Dataflow.Training;
using Spectre.Console;

namespace Dataflow.Runner.Progress;

/// <summary>
/// The trainer's observer on the console: a live bar on a terminal, plain lines otherwise (logs, CI),
/// so the same run reads well in both. Evaluations and messages are lines either way.
/// </summary>
public abstract class ConsoleProgress : ITrainingObserver
{
    private readonly Stopwatch _sinceStart = new();
    private long _stepsSeen;

    /// <summary>Human output; stderr when stdout carries JSON.</summary>
    public TextWriter Out { get; protected init; } = Console.Out;

    protected string Title { get; private set; } = "";
    protected long Total { get; private set; }

    public static ConsoleProgress Create(bool json)
    {
        var writer = json ? Console.Error : Console.Out;
        bool terminal = json ? !Console.IsErrorRedirected : !Console.IsOutputRedirected;
        return terminal ? new LiveProgress(writer) : new PlainProgress(writer);
    }

    /// <summary>Runs <paramref name="work"/> (a training run reporting here) inside the progress display.</summary>
    public abstract T Show<T>(Func<T> work);

    public abstract void Line(string text);

    protected abstract void Started(long firstStep);
    protected abstract void Update(long step, string status);

    public void OnStart(string title, long firstStep, long totalSteps)
    {
        (Title, Total, _stepsSeen) = (title, totalSteps, 0);
        _sinceStart.Restart();
        Started(firstStep);
    }

    public void OnStep(StepReport step)
    {
        _stepsSeen++;
        Update(step.Step, string.Create(CultureInfo.InvariantCulture,
            $"loss {step.Loss:F4} lr {step.LearningRate:E2} {_stepsSeen / _sinceStart.Elapsed.TotalSeconds:F1} steps/s"));
    }

    public void OnEvaluation(EvaluationReport r) => Line(string.Create(CultureInfo.InvariantCulture,
        $"step {r.Step,6}/{r.TotalSteps}  train_loss {r.TrainLoss:F4}  {r.Evaluation.Summary}  lr {r.LearningRate:E2}  {r.ElapsedSeconds:F1} s"));

    public void OnMessage(string text) => Line(text);
}

/// <summary>A Spectre.Console progress bar: step, status (loss, steps/s), percentage and ETA.</summary>
public sealed class LiveProgress : ConsoleProgress
{
    private readonly IAnsiConsole _console;
    private ProgressContext? _context;
    private ProgressTask? _task;

    public LiveProgress(TextWriter writer)
    {
        Out = writer;
        _console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
    }

    public override T Show<T>(Func<T> work)
    {
        T result = default!;
        _console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(context =>
            {
                _context = context;
                result = work();
                if (_task is not null) _task.Value = _task.MaxValue;
            });
        (_context, _task) = (null, null);
        return result;
    }

    protected override void Started(long firstStep)
    {
        _task = _context?.AddTask(Markup.Escape(Title), maxValue: Math.Max(1, Total));
        if (_task is not null) _task.Value = firstStep;
    }

    protected override void Update(long step, string status)
    {
        if (_task is null) return;
        _task.Value = step;
        _task.Description = Markup.Escape($"{Title} {status}");
    }

    public override void Line(string text) => _console.WriteLine(text);
}

/// <summary>Plain lines, a progress line at most every few seconds, for logs.</summary>
public sealed class PlainProgress : ConsoleProgress
{
    private readonly Stopwatch _sinceLast = new();

    public PlainProgress(TextWriter writer) => Out = writer;

    public override T Show<T>(Func<T> work) => work();

    protected override void Started(long firstStep) => _sinceLast.Restart();

    protected override void Update(long step, string status)
    {
        if (_sinceLast.Elapsed < TimeSpan.FromSeconds(5) && step != Total) return;
        _sinceLast.Restart();
        Out.WriteLine($"{Title} step {step}/{Total} {status}");
    }

    public override void Line(string text) => Out.WriteLine(text);
}
