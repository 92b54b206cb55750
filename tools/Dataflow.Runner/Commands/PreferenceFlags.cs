using System.CommandLine;
using Dataflow.Backends;
using Dataflow.Chat;
using Dataflow.Chat.Rl;
using Dataflow.Generation;
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
        Description = "synthetic (pairs made from the chat tasks: right vs wrong answers, polite vs rude greetings), sampled (on-policy: the --from model's own wrong replies, rejected, against its right ones or the task's reply) or a JSONL file of {\"prompt\", \"chosen\", \"rejected\"} (its last tenth held out)",
        Required = true,
    };
    public Option<string[]> Tasks { get; } = new("--tasks")
    {
        Description = $"With --data synthetic or sampled: the tasks pairs are made from (default: {string.Join(", ", SyntheticPreferences.TaskNames)}; sampled: {string.Join(", ", SampledPreferences.TaskNames)})",
        AllowMultipleArgumentsPerToken = true,
    };
    public Option<int> Pairs { get; } = new("--pairs") { Description = "With --data synthetic: training pairs (from the tasks' training side)", DefaultValueFactory = _ => 2000 };
    public Option<int> HeldOutPairs { get; } = new("--heldout-pairs") { Description = "With --data synthetic: held-out pairs (from the tasks' held-out side)", DefaultValueFactory = _ => 200 };
    public Option<string?> WritePairs { get; } = new("--write-pairs") { Description = "With --data synthetic or sampled: also write the training pairs here as JSONL (to inspect, or to train on later)" };
    public Option<int> Problems { get; } = new("--problems") { Description = "With --data sampled: training problems per task", DefaultValueFactory = _ => 200 };
    public Option<int> HeldOutProblems { get; } = new("--heldout-problems") { Description = "With --data sampled: held-out problems per task (their pairs are the held-out pairs)", DefaultValueFactory = _ => 50 };
    public Option<int> Samples { get; } = new("--samples") { Description = "With --data sampled: replies sampled per problem", DefaultValueFactory = _ => SampledPreferences.DefaultSamples };
    public Option<double> Temperature { get; } = new("--temperature") { Description = "With --data sampled: the sampling temperature", DefaultValueFactory = _ => ChatTaskGrpo.Temperature };

    public Option<int> Batch { get; } = new("--batch") { Description = "Preference pairs per step", DefaultValueFactory = _ => 8 };
    public Option<long> Steps { get; } = new("--steps") { Description = "Optimizer steps", DefaultValueFactory = _ => 200 };

    public IEnumerable<Option> All => [Data, Tasks, Pairs, HeldOutPairs, WritePairs, Problems, HeldOutProblems, Samples, Temperature, Batch, Steps];

    /// <param name="from">With --data sampled: the checkpoint sampled from (on <paramref name="backend"/>).</param>
    public ChatPreferenceData Load(ParseResult r, ChatRenderer renderer, int seed, string from, string backend)
    {
        string data = r.GetValue(Data)!;
        bool synthetic = data == ChatPreferenceData.Synthetic, sampled = IsSampled(r);
        if (!synthetic && !sampled && (r.GetValue(Tasks) is { Length: > 0 } || r.GetValue(WritePairs) is not null))
            throw new UsageException("--tasks and --write-pairs are for --data synthetic or sampled");
        foreach (var (name, value) in new[] { ("--pairs", r.GetValue(Pairs)), ("--heldout-pairs", r.GetValue(HeldOutPairs)), ("--problems", r.GetValue(Problems)), ("--heldout-problems", r.GetValue(HeldOutProblems)), ("--samples", r.GetValue(Samples)) })
            if (value < 1) throw new UsageException($"{name} {value}: must be at least 1");
        if (!(r.GetValue(Temperature) > 0)) throw new UsageException($"--temperature {r.GetValue(Temperature)}: must be positive");
        var names = TaskNames(r);
        if (sampled) return LoadSampled(r, names, seed, from, backend);
        if (synthetic && r.GetValue(WritePairs) is { } path)
            PreferencePairWriter.Write(path, SyntheticPreferences.Make(ChatPreferenceData.Tasks(names, () => WordList.Load()), DataSplit.Train, r.GetValue(Pairs), seed));
        return ChatPreferenceData.Load(data, renderer, names, r.GetValue(Pairs), r.GetValue(HeldOutPairs), seed, () => WordList.Load());
    }

    public bool IsSampled(ParseResult r) => r.GetValue(Data) == SampledPreferences.DataName;

    /// <summary>The tasks the pairs come from: --tasks, else the data kind's default.</summary>
    public IReadOnlyList<IChatTask> ChatTasksOf(ParseResult r) =>
        ChatPreferenceData.Tasks(TaskNames(r) ?? (IsSampled(r) ? SampledPreferences.TaskNames : null), () => WordList.Load());

    private ChatPreferenceData LoadSampled(ParseResult r, IReadOnlyList<string>? names, int seed, string from, string backend)
    {
        var tasks = ChatPreferenceData.Tasks(names ?? SampledPreferences.TaskNames, () => WordList.Load());
        var model = CheckpointModel.Open(from, BackendCatalog.Create(backend));
        ChatPreferenceData data;
        try
        {
            using var generation = new ChatGeneration(model.Session, model.Config, new ChatTokens(model.Tokenizer), slots: 32);
            data = ChatPreferenceData.FromSamples(generation, tasks, r.GetValue(Problems), r.GetValue(HeldOutProblems), r.GetValue(Samples), r.GetValue(Temperature), seed);
        }
        finally { model.Session.Dispose(); }
        if (r.GetValue(WritePairs) is { } path) PreferencePairWriter.Write(path, data.TrainPairs!);
        return data;
    }

    /// <summary>--tasks as given, commas splitting too (<c>--tasks arithmetic,lists</c>); null when not given.</summary>
    public IReadOnlyList<string>? TaskNames(ParseResult r) =>
        r.GetValue(Tasks) is { Length: > 0 } given ? [.. given.SelectMany(t => t.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))] : null;
}
