using System.Globalization;
using Dataflow.Chat.Tasks;
using Dataflow.Engine;
using Dataflow.Engine.Data;
using Dataflow.Engine.Tokenizers;
using Dataflow.Reinforcement;

namespace Dataflow.Chat.Preferences;

/// <summary>
/// Preference pairs for a chat model, as the DPO and reward-model runs read them: the prompt is the
/// user's message and each completion an assistant turn, rendered in the chat format (the prompt up to
/// the opened assistant turn; a completion is the assistant's text and its end token).
/// </summary>
public sealed record ChatPreferenceData(IReadOnlyList<TokenizedPair> Train, IReadOnlyList<TokenizedPair> HeldOut, string Description)
{
    /// <summary>Pairs the project makes from its tasks, of the kind a verb needs (the runner resolves it: DPO's are sampled, a reward model's templated).</summary>
    public const string Synthetic = "synthetic";

    /// <summary>Pairs templated from the tasks' own replies (<see cref="SyntheticPreferences"/>).</summary>
    public const string Templated = "templated";

    /// <summary>
    /// <paramref name="data"/> is <see cref="Templated"/> (pairs from the tasks named, by default
    /// <see cref="SyntheticPreferences.TaskNames"/>) or a JSONL file's path; an unknown task name is a
    /// <see cref="Engine.ConfigurationException"/> that lists the tasks.
    /// </summary>
    public static ChatPreferenceData Load(string data, ChatRenderer renderer, IReadOnlyList<string>? taskNames, int trainCount, int heldOutCount, int seed, Func<WordList> words) =>
        data == Templated ? FromTasks(Tasks(taskNames, words), renderer, trainCount, heldOutCount, seed) : FromFile(data, renderer);

    /// <summary>The chat tasks named (none: <see cref="SyntheticPreferences.TaskNames"/>).</summary>
    public static IReadOnlyList<IChatTask> Tasks(IReadOnlyList<string>? names, Func<WordList> words) =>
        [.. (names is { Count: > 0 } ? names : SyntheticPreferences.TaskNames).Select(n => ChatTasks.Create(n, words))];

    /// <summary>Pairs from <see cref="SyntheticPreferences"/>: <paramref name="trainCount"/> on the tasks' training side, <paramref name="heldOutCount"/> on their held-out side.</summary>
    public static ChatPreferenceData FromTasks(IReadOnlyList<IChatTask> tasks, ChatRenderer renderer, int trainCount, int heldOutCount, int seed)
    {
        var train = SyntheticPreferences.Make(tasks, DataSplit.Train, trainCount, seed);
        var heldOut = SyntheticPreferences.Make(tasks, DataSplit.Test, heldOutCount, seed);
        return new(Tokenize(train, renderer, "templated pair"), Tokenize(heldOut, renderer, "templated held-out pair"),
            $"templated pairs from {string.Join(", ", tasks.Select(t => t.Name))}: {trainCount} train / {heldOutCount} held-out")
        {
            HeldOutTasks = [.. Enumerable.Range(0, heldOutCount).Select(i => tasks[i % tasks.Count].Name)],
        };
    }

    /// <summary>
    /// On-policy pairs (<see cref="SampledPreferences"/>) sampled from the policy <paramref name="generation"/> holds:
    /// <paramref name="trainProblems"/> per task on the tasks' training side, <paramref name="heldOutProblems"/> per task on their held-out side.
    /// </summary>
    public static ChatPreferenceData FromSamples(ChatGeneration generation, IReadOnlyList<IChatTask> tasks, int trainProblems, int heldOutProblems, int samples, double temperature, int seed)
    {
        var train = SampledPreferences.Make(generation, tasks, DataSplit.Train, trainProblems, samples, temperature, seed);
        var heldOut = SampledPreferences.Make(generation, tasks, DataSplit.Test, heldOutProblems, samples, temperature, seed);
        if (train.Pairs.Count == 0 || heldOut.Pairs.Count == 0)
            throw new ConfigurationException($"sampling made no pairs on one side (train: {train.Summary}; held-out: {heldOut.Summary}): every sample was right (or cut off), so there is nothing to prefer; choose tasks the policy gets wrong");
        return new(Tokenize(train.Pairs, generation.Renderer, "sampled pair"), Tokenize(heldOut.Pairs, generation.Renderer, "sampled held-out pair"),
            string.Create(CultureInfo.InvariantCulture, $"on-policy pairs from {string.Join(", ", tasks.Select(t => t.Name))}, {samples} samples per problem at temperature {temperature}: train {trainProblems} problems per task, {train.Summary}; held-out {heldOutProblems} per task, {heldOut.Summary}"))
        {
            TrainPairs = train.Pairs, HeldOutTasks = heldOut.Tasks,
        };
    }

    /// <summary>The task each held-out pair comes from, when they were made from tasks (for accuracy per task).</summary>
    public IReadOnlyList<string>? HeldOutTasks { get; init; }

    /// <summary>The training pairs as text, when they were made here (sampled), to write out with --write-pairs.</summary>
    public IReadOnlyList<PreferencePair>? TrainPairs { get; init; }

    /// <summary>A JSONL file of pairs (<see cref="PreferencePairReader"/>): its last tenth is held out (a file of fewer than 10 pairs is held out whole, and also trained on).</summary>
    public static ChatPreferenceData FromFile(string path, ChatRenderer renderer)
    {
        var all = PreferencePairReader.Read(path);
        int cut = all.Count >= 10 ? all.Count - all.Count / 10 : all.Count;
        var pairs = Tokenize(all, renderer, path + ": pair");
        var heldOut = all.Count >= 10 ? pairs.Skip(cut).ToArray() : pairs;
        return new(pairs.Take(cut).ToArray(), heldOut, $"{path}: {cut} train / {heldOut.Count} held-out pairs");
    }

    /// <summary>Each pair in the chat format; <paramref name="source"/> names pair i (1-based) in a tokenizer's complaint.</summary>
    public static IReadOnlyList<TokenizedPair> Tokenize(IReadOnlyList<PreferencePair> pairs, ChatRenderer renderer, string source)
    {
        var result = new TokenizedPair[pairs.Count];
        for (int i = 0; i < pairs.Count; i++)
        {
            try { result[i] = Tokenize(pairs[i], renderer); }
            catch (TokenizerException e) { throw new DataException($"{source} {i + 1}: {e.Message}", e); }
        }
        return result;
    }

    public static TokenizedPair Tokenize(PreferencePair pair, ChatRenderer renderer)
    {
        var prompt = renderer.RenderPrompt([ChatMessage.User(pair.Prompt)]);
        int[] Completion(string reply) => renderer.Render([ChatMessage.User(pair.Prompt), ChatMessage.Assistant(reply)]).Tokens[prompt.Length..];
        return new TokenizedPair(prompt, Completion(pair.Chosen), Completion(pair.Rejected));
    }
}
