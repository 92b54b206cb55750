using System.Diagnostics;
using Spectre.Console;

namespace Dataflow.Runner.Training;

/// <summary>
/// Where a long job reports progress: a live bar on a terminal, plain lines otherwise (logs, CI),
/// so the same loop reads well in both.
/// </summary>
public abstract class ProgressSink
{
    /// <summary>Human output; stderr when stdout carries JSON.</summary>
    public TextWriter Out { get; protected init; } = Console.Out;

    public abstract void Run(string title, long totalSteps, Action<ProgressSink> work);
    public abstract void Update(long step, string status);
    public abstract void Line(string text);

    public static ProgressSink Create(bool json)
    {
        var writer = json ? Console.Error : Console.Out;
        bool terminal = json ? !Console.IsErrorRedirected : !Console.IsOutputRedirected;
        return terminal ? new LiveProgress(writer) : new PlainProgress(writer);
    }
}

/// <summary>A Spectre.Console progress bar: step, status (loss, steps/s), percentage and ETA.</summary>
public sealed class LiveProgress : ProgressSink
{
    private readonly IAnsiConsole _console;
    private ProgressTask? _task;
    private string _title = "";

    public LiveProgress(TextWriter writer)
    {
        Out = writer;
        _console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(writer) });
    }

    public override void Run(string title, long totalSteps, Action<ProgressSink> work)
    {
        _title = title;
        _console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(), new PercentageColumn(), new RemainingTimeColumn())
            .Start(ctx =>
            {
                _task = ctx.AddTask(Markup.Escape(title), maxValue: Math.Max(1, totalSteps));
                work(this);
                _task.Value = _task.MaxValue;
            });
    }

    public override void Update(long step, string status)
    {
        if (_task is null) return;
        _task.Value = step;
        _task.Description = Markup.Escape($"{_title} {status}");
    }

    public override void Line(string text) => _console.WriteLine(text);
}

/// <summary>Plain lines at most every few seconds, for logs.</summary>
public sealed class PlainProgress : ProgressSink
{
    private readonly Stopwatch _sinceLast = new();
    private long _total;
    private string _title = "";

    public PlainProgress(TextWriter writer) => Out = writer;

    public override void Run(string title, long totalSteps, Action<ProgressSink> work)
    {
        (_title, _total) = (title, totalSteps);
        _sinceLast.Restart();
        work(this);
    }

    public override void Update(long step, string status)
    {
        if (_sinceLast.Elapsed < TimeSpan.FromSeconds(5) && step != _total) return;
        _sinceLast.Restart();
        Out.WriteLine($"{_title} step {step}/{_total} {status}");
    }

    public override void Line(string text) => Out.WriteLine(text);
}
