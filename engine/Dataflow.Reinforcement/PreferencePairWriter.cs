using System.Text.Encodings.Web;
using System.Text.Json;

namespace Dataflow.Reinforcement;

/// <summary>Preference pairs as the JSONL that <see cref="PreferencePairReader"/> reads back: one <c>{"prompt","chosen","rejected"}</c> object a line.</summary>
public static class PreferencePairWriter
{
    // Relaxed escaping: a file people read, so "+" and "'" stay as they are (JSON needs only quotes, backslashes and controls escaped).
    private static readonly JsonSerializerOptions Options = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static string Line(PreferencePair pair) =>
        JsonSerializer.Serialize(new Dictionary<string, string> { ["prompt"] = pair.Prompt, ["chosen"] = pair.Chosen, ["rejected"] = pair.Rejected }, Options);

    public static void Write(string path, IEnumerable<PreferencePair> pairs) => File.WriteAllLines(path, pairs.Select(Line));
}
