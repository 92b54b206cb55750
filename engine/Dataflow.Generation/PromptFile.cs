using Dataflow.Engine;

namespace Dataflow.Generation;

/// <summary><c>--prompts FILE</c>: one prompt per line (blank lines skipped), each remembered with its line for errors.</summary>
public static class PromptFile
{
    public static IReadOnlyList<(string Text, string Source)> Read(string path)
    {
        if (!File.Exists(path)) throw new ConfigurationException($"--prompts {path}: no such file");
        var prompts = File.ReadAllLines(path)
            .Select((line, i) => (Text: line, Source: $"--prompts {path} line {i + 1}"))
            .Where(p => p.Text.Trim().Length > 0)
            .ToList();
        if (prompts.Count == 0) throw new ConfigurationException($"--prompts {path}: the file has no prompts (it is empty or every line is blank)");
        return prompts;
    }
}
