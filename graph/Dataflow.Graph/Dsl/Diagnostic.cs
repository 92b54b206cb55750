namespace Dataflow.Graph.Dsl;

/// <summary>
/// One user-facing error, pointing into the model text. Line and column are 1-based; a line of 0
/// means the error is about the file as a whole (it could not be read), so there is no caret.
/// </summary>
public sealed record Diagnostic(string File, int Line, int Column, string Message, string SourceLine)
{
    public override string ToString()
    {
        var message = Visible.Escape(Message, keepNewlines: true);
        if (Line <= 0) return $"{File}: error: {message}";
        // The caret goes under the same character after escaping widened what comes before it.
        var before = Visible.Escape(SourceLine[..Math.Clamp(Column - 1, 0, SourceLine.Length)]);
        var caret = new string(' ', before.Length + Math.Max(0, Column - 1 - SourceLine.Length)) + "^";
        return $"{File}:{Line}:{Column}: error: {message}\n  {Visible.Escape(SourceLine)}\n  {caret}";
    }
}

/// <summary>Every mistake in a model file or in the options given with it surfaces as this one type.</summary>
public sealed class DfgException(Diagnostic diagnostic) : Exception(diagnostic.ToString())
{
    public Diagnostic Diagnostic { get; } = diagnostic;
}

/// <summary>A position in the source: 1-based line and column.</summary>
public readonly record struct Loc(int Line, int Column);

/// <summary>The text of one model file, kept so that diagnostics can quote the offending line.</summary>
public sealed class SourceText
{
    private readonly string[] _lines;

    public SourceText(string fileName, string text)
    {
        FileName = fileName;
        Text = text;
        _lines = text.Replace("\r\n", "\n").Split('\n');
    }

    public string FileName { get; }
    public string Text { get; }

    public string Line(int line) => line >= 1 && line <= _lines.Length ? _lines[line - 1].TrimEnd('\r') : "";

    public DfgException Error(Loc loc, string message) =>
        new(new Diagnostic(FileName, loc.Line, loc.Column, message, Line(loc.Line)));
}
