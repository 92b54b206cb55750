using Dataflow.Generation;

namespace Dataflow.Chat.Tools;

/// <summary>
/// The calculator as a generation tool: when the assistant closes a call with <c>&lt;|python_end|&gt;</c>,
/// the text since its <c>&lt;|python_start|&gt;</c> is evaluated (<see cref="Calculator"/>) and
/// <c>&lt;|output_start|&gt;result&lt;|output_end|&gt;</c> is fed back. A malformed call, or a close with no
/// open, gets an "error: …" output, never an exception.
/// </summary>
public sealed class CalculatorTool(ChatTokens tokens) : IToolCalls
{
    public int[]? Respond(IReadOnlyList<int> sequence, int promptLength)
    {
        if (sequence.Count == 0 || sequence[^1] != tokens.PythonEnd) return null;
        int open = -1;
        for (int i = sequence.Count - 2; i >= promptLength; i--)
        {
            if (sequence[i] == tokens.PythonStart) { open = i; break; }
            if (sequence[i] == tokens.PythonEnd || sequence[i] == tokens.OutputEnd) break;
        }
        string answer;
        if (open < 0) answer = "error: no call was opened";
        else
        {
            int[] call = [.. sequence.Skip(open + 1).Take(sequence.Count - open - 2)];
            answer = call.Any(IsMarker) ? "error: a call holds only an expression" : Calculator.Answer(tokens.Tokenizer.Decode(call));
        }
        return [tokens.OutputStart, .. Encode(answer), tokens.OutputEnd];
    }

    private bool IsMarker(int id) => id >= 0 && tokens.Tokenizer.SpecialTokens.Values.Contains(id);

    /// <summary>The answer's tokens; a character the vocabulary lacks (in an error message) is dropped rather than failing the sequence.</summary>
    private int[] Encode(string text)
    {
        try { return tokens.Tokenizer.Encode(text); }
        catch (Engine.Tokenizers.TokenizerException)
        {
            var ids = new List<int>();
            foreach (char c in text)
            {
                try { ids.AddRange(tokens.Tokenizer.Encode(c.ToString())); }
                catch (Engine.Tokenizers.TokenizerException) { }
            }
            return [.. ids];
        }
    }
}
