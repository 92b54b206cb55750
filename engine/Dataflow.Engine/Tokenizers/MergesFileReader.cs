namespace Dataflow.Engine.Tokenizers;

/// <summary>
/// Reads GPT-2's merges.txt: an optional "#version" first line, then one merge per line as the two
/// token strings separated by a single space, highest priority first.
/// </summary>
internal static class MergesFileReader
{
    public const string VersionHeader = "#version: 0.2";

    /// <returns>The merges in rank order, each with the 1-based line it came from.</returns>
    public static List<(string Left, string Right, int Line)> Read(string text, string source)
    {
        var merges = new List<(string, string, int)>();
        string[] lines = text.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Length == 0) continue;
            if (i == 0 && line.StartsWith("#version", StringComparison.Ordinal)) continue;
            var (left, right) = ParseLine(line, $"{source}:{i + 1}");
            merges.Add((left, right, i + 1));
        }
        return merges;
    }

    /// <summary>Splits one "left right" merge; <paramref name="location"/> names it in errors.</summary>
    public static (string Left, string Right) ParseLine(string line, string location)
    {
        // Byte-level tokens never contain a space (it is mapped to 'Ġ'), so exactly one space separates them.
        int space = line.IndexOf(' ');
        if (space <= 0 || space == line.Length - 1 || line.IndexOf(' ', space + 1) >= 0)
            throw new TokenizerException($"{location}: expected two tokens separated by one space, got {VocabJsonReader.Quote(line)}");
        return (line[..space], line[(space + 1)..]);
    }
}
