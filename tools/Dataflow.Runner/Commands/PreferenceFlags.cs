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

/// <summary>
/// The flags <c>dpo</c> and <c>reward</c> share: where the pairs come from, how many (and per step), a copy
/// of the made ones to look at, the steps. <c>--data synthetic</c> is "pairs the project makes from its
/// tasks", in the kind the verb needs (<paramref name="syntheticKind"/>): DPO's are on-policy
/// (<see cref="SampledPreferences.DataName"/>; templated answers are off-policy and were measured to wreck
/// the policy), a reward model's templated (<see cref="ChatPreferenceData.Templated"/>: it must judge every
/// task, also those the policy never gets wrong, where sampling makes no pair).
/// </summary>
internal sealed class PreferenceFlags(string syntheticKind, long defaultSteps, int defaultProblems = 200, int defaultHeldOutProblems = 50)
{
    public Option<string> Data { get; } = new("--data")
    {
        Description = $"synthetic (here: {syntheticKind}), {ChatPreferenceData.Templated} (pairs made from the chat tasks: the task's reply vs the same with a plausible mistake — a wrong column step and the answer it leads to, two list items swapped, a wrong count — or a rude greeting), {SampledPreferences.DataName} (on-policy: the --from model's own wrong replies, rejected, against its right ones or the task's reply) or a JSONL file of {{\"prompt\", \"chosen\", \"rejected\"}} (its last tenth held out)",
        Required = true,
    };
    public Option<string[]> Tasks { get; } = new("--tasks")
    {
        Description = $"With --data synthetic, templated or sampled: the tasks pairs are made from (default, templated: {string.Join(", ", SyntheticPreferences.TaskNames)}; sampled: {string.Join(", ", SampledPreferences.TaskNames)})",
        AllowMultipleArgumentsPerToken = true,
    };
    public Option<int> Pairs { get; } = new("--pairs") { Description = "With --data templated: training pairs (from the tasks' training side)", DefaultValueFactory = _ => 2000 };
    public Option<int> HeldOutPairs { get; } = new("--heldout-pairs") { Description = "With --data templated: held-out pairs (from the tasks' held-out side)", DefaultValueFactory = _ => 200 };
    public Option<string?> WritePairs { get; } = new("--write-pairs") { Description = "With --data synthetic, templated or sampled: also write the training pairs here as JSONL (to inspect, or to train on later)" };
    public Option<int> Problems { get; } = new("--problems") { Description = "With --data sampled: training problems per task", DefaultValueFactory = _ => defaultProblems };
    public Option<int> HeldOutProblems { get; } = new("--heldout-problems") { Description = "With --data sampled: held-out problems per task (their pairs are the held-out pairs)", DefaultValueFactory = _ => defaultHeldOutProblems };
    public Option<int> Samples { get; } = new("--samples") { Description = "With --data sampled: replies sampled per problem", DefaultValueFactory = _ => SampledPreferences.DefaultSamples };
    public Option<double> Temperature { get; } = new("--temperature") { Description = "With --data sampled: the sampling temperature", DefaultValueFactory = _ => ChatTaskGrpo.Temperature };

    public Option<int> Batch { get; } = new("--batch") { Description = "Preference pairs per step", DefaultValueFactory = _ => 8 };
    public Option<long> Steps { get; } = new("--steps") { Description = "Optimizer steps", DefaultValueFactory = _ => defaultSteps };

    public IEnumerable<Option> All => [Data, Tasks, Pairs, HeldOutPairs, WritePairs, Problems, HeldOutProblems, Samples, Temperature, Batch, Steps];

    /// <param name="from">With --data sampled: the checkpoint sampled from (on <paramref name="backend"/>).</param>
    public ChatPreferenceData Load(ParseResult r, ChatRenderer renderer, int seed, string from, string backend)
    {
        string data = Kind(r);
        bool templated = data == ChatPreferenceData.Templated, sampled = IsSampled(r);
        if (!templated && !sampled && (r.GetValue(Tasks) is { Length: > 0 } || r.GetValue(WritePairs) is not null))
            throw new UsageException("--tasks and --write-pairs are for --data synthetic, templated or sampled");
        foreach (var (name, value) in new[] { ("--pairs", r.GetValue(Pairs)), ("--heldout-pairs", r.GetValue(HeldOutPairs)), ("--problems", r.GetValue(Problems)), ("--heldout-problems", r.GetValue(HeldOutProblems)), ("--samples", r.GetValue(Samples)) })
            if (value < 1) throw new UsageException($"{name} {value}: must be at least 1");
        if (!(r.GetValue(Temperature) > 0)) throw new UsageException($"--temperature {r.GetValue(Temperature)}: must be positive");
        var names = TaskNames(r);
        if (sampled) return LoadSampled(r, names, seed, from, backend);
        if (templated && r.GetValue(WritePairs) is { } path)
            PreferencePairWriter.Write(path, SyntheticPreferences.Make(ChatPreferenceData.Tasks(names, () => WordList.Load()), DataSplit.Train, r.GetValue(Pairs), seed));
        return ChatPreferenceData.Load(data, renderer, names, r.GetValue(Pairs), r.GetValue(HeldOutPairs), seed, () => WordList.Load());
    }

    /// <summary>--data with synthetic resolved to the verb's kind: templated, sampled or a file's path.</summary>
    public string Kind(ParseResult r) => r.GetValue(Data) is ChatPreferenceData.Synthetic ? syntheticKind : r.GetValue(Data)!;

    public bool IsSampled(ParseResult r) => Kind(r) == SampledPreferences.DataName;

    /// <summary>Whether the pairs are made from chat tasks (templated or sampled), not read from a file.</summary>
    public bool FromTasks(ParseResult r) => Kind(r) is ChatPreferenceData.Templated or SampledPreferences.DataName;

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
