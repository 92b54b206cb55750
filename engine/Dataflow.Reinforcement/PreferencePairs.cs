using System.Text.Json;
using Dataflow.Engine.Data;
using Dataflow.Engine.Tokenizers;

namespace Dataflow.Reinforcement;

/// <summary>One preference: a prompt and two completions of it, the one people preferred first.</summary>
public sealed record PreferencePair(string Prompt, string Chosen, string Rejected);

/// <summary>A preference pair as tokens (the completions without the prompt).</summary>
public sealed record TokenizedPair(int[] Prompt, int[] Chosen, int[] Rejected)
{
    public static TokenizedPair Of(PreferencePair pair, ITokenizer tokenizer) =>
        new(tokenizer.Encode(pair.Prompt), tokenizer.Encode(pair.Chosen), tokenizer.Encode(pair.Rejected));
}

/// <summary>
/// The preference-pair JSONL format: one object per line, <c>{"prompt": …, "chosen": …, "rejected": …}</c>,
/// every field a string (other fields are ignored; blank lines are skipped). A line that is not such an
/// object is a <see cref="DataException"/> naming the file, the line and what is wrong.
/// </summary>
public static class PreferencePairReader
{
    private static readonly string[] Fields = ["prompt", "chosen", "rejected"];

    public static IReadOnlyList<PreferencePair> Read(string path)
    {
        string[] lines;
        try { lines = File.ReadAllLines(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new DataException($"{path}: cannot read the preference pairs: {e.Message}", e);
        }
        var pairs = Parse(lines, path);
        if (pairs.Count == 0) throw new DataException($"{path}: no preference pairs (expected one JSON object per line with \"prompt\", \"chosen\" and \"rejected\")");
        return pairs;
    }

    /// <param name="source">Named in errors (the file's path).</param>
    public static IReadOnlyList<PreferencePair> Parse(IEnumerable<string> lines, string source)
    {
        var pairs = new List<PreferencePair>();
        int number = 0;
        foreach (var line in lines)
        {
            number++;
            if (string.IsNullOrWhiteSpace(line)) continue;
            JsonDocument document;
            try { document = JsonDocument.Parse(line); }
            catch (JsonException e) { throw new DataException($"{source}:{number}: not a JSON object: {e.Message}", e); }
            using (document)
            {
                if (document.RootElement.ValueKind != JsonValueKind.Object)
                    throw new DataException($"{source}:{number}: expected a JSON object with \"prompt\", \"chosen\" and \"rejected\", got {document.RootElement.ValueKind.ToString().ToLowerInvariant()}");
                var values = new string[Fields.Length];
                for (int f = 0; f < Fields.Length; f++)
                {
                    if (!document.RootElement.TryGetProperty(Fields[f], out var value))
                        throw new DataException($"{source}:{number}: missing field \"{Fields[f]}\" (a preference pair needs \"prompt\", \"chosen\" and \"rejected\")");
                    if (value.ValueKind != JsonValueKind.String)
                        throw new DataException($"{source}:{number}: field \"{Fields[f]}\" must be a string, got {value.ValueKind.ToString().ToLowerInvariant()}");
                    values[f] = value.GetString()!;
                }
                pairs.Add(new PreferencePair(values[0], values[1], values[2]));
            }
        }
        return pairs;
    }
}
