using System.CommandLine;
using Dataflow.Chat;
using Dataflow.Chat.Preferences;
using Dataflow.Chat.Tasks;
using Dataflow.Reinforcement;
using Dataflow.Runner.Cli;

namespace Dataflow.Runner.Commands;

/// <summary>The flags <c>dpo</c> and <c>reward</c> share: where the pairs come from, how many (and per step), a copy of the synthetic ones to look at, the steps.</summary>
internal sealed class PreferenceFlags
{
    public Option<string> Data { get; } = new("--data")
    {
        Description = "synthetic (pairs made from the chat tasks: right vs wrong answers, polite vs rude greetings) or a JSONL file of {\"prompt\", \"chosen\", \"rejected\"} (its last tenth held out)",
        Required = true,
    };
    public Option<string[]> Tasks { get; } = new("--tasks")
    {
        Description = $"With --data synthetic: the tasks pairs are made from (default: {string.Join(", ", SyntheticPreferences.TaskNames)})",
        AllowMultipleArgumentsPerToken = true,
    };
    public Option<int> Pairs { get; } = new("--pairs") { Description = "With --data synthetic: training pairs (from the tasks' training side)", DefaultValueFactory = _ => 2000 };
    public Option<int> HeldOutPairs { get; } = new("--heldout-pairs") { Description = "With --data synthetic: held-out pairs (from the tasks' held-out side)", DefaultValueFactory = _ => 200 };
    public Option<string?> WritePairs { get; } = new("--write-pairs") { Description = "With --data synthetic: also write the training pairs here as JSONL (to inspect, or to train on later)" };

    public Option<int> Batch { get; } = new("--batch") { Description = "Preference pairs per step", DefaultValueFactory = _ => 8 };
    public Option<long> Steps { get; } = new("--steps") { Description = "Optimizer steps", DefaultValueFactory = _ => 200 };

    public IEnumerable<Option> All => [Data, Tasks, Pairs, HeldOutPairs, WritePairs, Batch, Steps];

    public ChatPreferenceData Load(ParseResult r, ChatRenderer renderer, int seed)
    {
        string data = r.GetValue(Data)!;
        bool synthetic = data == ChatPreferenceData.Synthetic;
        if (!synthetic && (r.GetValue(Tasks) is { Length: > 0 } || r.GetValue(WritePairs) is not null))
            throw new UsageException("--tasks and --write-pairs are for --data synthetic");
        foreach (var (name, value) in new[] { ("--pairs", r.GetValue(Pairs)), ("--heldout-pairs", r.GetValue(HeldOutPairs)) })
            if (value < 1) throw new UsageException($"{name} {value}: must be at least 1");
        var names = TaskNames(r);
        if (synthetic && r.GetValue(WritePairs) is { } path)
            PreferencePairWriter.Write(path, SyntheticPreferences.Make(ChatPreferenceData.Tasks(names, () => WordList.Load()), DataSplit.Train, r.GetValue(Pairs), seed));
        return ChatPreferenceData.Load(data, renderer, names, r.GetValue(Pairs), r.GetValue(HeldOutPairs), seed, () => WordList.Load());
    }

    /// <summary>--tasks as given, commas splitting too (<c>--tasks arithmetic,lists</c>); null when not given.</summary>
    public IReadOnlyList<string>? TaskNames(ParseResult r) =>
        r.GetValue(Tasks) is { Length: > 0 } given ? [.. given.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))] : null;
}
