using Dataflow.Chat.Tasks;
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
    public const string Synthetic = "synthetic";

    /// <summary>
    /// <paramref name="data"/> is <see cref="Synthetic"/> (pairs from the tasks named, by default
    /// <see cref="SyntheticPreferences.TaskNames"/>) or a JSONL file's path; an unknown task name is a
    /// <see cref="Engine.ConfigurationException"/> that lists the tasks.
    /// </summary>
    public static ChatPreferenceData Load(string data, ChatRenderer renderer, IReadOnlyList<string>? taskNames, int trainCount, int heldOutCount, int seed, Func<WordList> words) =>
        data == Synthetic ? FromTasks(Tasks(taskNames, words), renderer, trainCount, heldOutCount, seed) : FromFile(data, renderer);

    /// <summary>The chat tasks named (none: <see cref="SyntheticPreferences.TaskNames"/>).</summary>
    public static IReadOnlyList<IChatTask> Tasks(IReadOnlyList<string>? names, Func<WordList> words) =>
        [.. (names is { Count: > 0 } ? names : SyntheticPreferences.TaskNames).Select(n => ChatTasks.Create(n, words))];

    /// <summary>Pairs from <see cref="SyntheticPreferences"/>: <paramref name="trainCount"/> on the tasks' training side, <paramref name="heldOutCount"/> on their held-out side.</summary>
    public static ChatPreferenceData FromTasks(IReadOnlyList<IChatTask> tasks, ChatRenderer renderer, int trainCount, int heldOutCount, int seed)
    {
        var train = SyntheticPreferences.Make(tasks, DataSplit.Train, trainCount, seed);
        var heldOut = SyntheticPreferences.Make(tasks, DataSplit.Test, heldOutCount, seed);
        return new(Tokenize(train, renderer, "synthetic pair"), Tokenize(heldOut, renderer, "synthetic held-out pair"),
            $"synthetic pairs from {string.Join(", ", tasks.Select(t => t.Name))}: {trainCount} train / {heldOutCount} held-out");
    }

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
