using System.Text;

namespace Dataflow.Generation;

/// <summary>
/// Streams many sequences to one writer in request order: the current sequence's text is written as
/// it arrives, later ones are held until every earlier one has finished. Each sequence is its prompt,
/// its continuation and a newline; sequences are separated by a blank line.
/// </summary>
public sealed class OrderedTextSink : IGenerationSink
{
    private readonly TextWriter _output;
    private readonly IReadOnlyList<string> _prompts;
    private readonly Dictionary<int, StringBuilder> _held = [];
    private readonly HashSet<int> _finished = [];
    private int _current;

    /// <summary>Writes the first prompt at once, so it shows before the first token is decoded.</summary>
    public OrderedTextSink(TextWriter output, IReadOnlyList<string> prompts)
    {
        (_output, _prompts) = (output, prompts);
        if (prompts.Count > 0) Write(prompts[0]);
    }

    public void OnText(int request, string piece)
    {
        if (request == _current) Write(piece);
        else (_held.TryGetValue(request, out var held) ? held : _held[request] = new StringBuilder()).Append(piece);
    }

    public void OnFinished(GenerationResult result)
    {
        _finished.Add(result.Request);
        while (_finished.Contains(_current))
        {
            _output.WriteLine();
            if (++_current >= _prompts.Count) break;
            _output.WriteLine();
            Write(_prompts[_current] + (_held.Remove(_current, out var held) ? held.ToString() : ""));
        }
        _output.Flush();
    }

    private void Write(string text)
    {
        if (text.Length == 0) return;
        _output.Write(text);
        _output.Flush();
    }
}
