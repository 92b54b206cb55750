using System.Globalization;
using Dataflow.Chat.Tasks;
using Dataflow.Engine;
using Dataflow.Generation;
using Dataflow.Reinforcement;

namespace Dataflow.Chat.Preferences;

/// <summary>
/// On-policy preference pairs (self-generated, as iterative and online DPO make them): the policy
/// samples several replies to each of a task's problems, the task's verifier sorts them, and each
/// distinct wrong reply becomes a rejected completion — a mistake this policy really makes (a wrong
/// column step and the answer it leads to), not one made up for it. Its chosen partner is a
/// verified-correct sample of the same problem, or, where the policy found none, the task's own reply
/// (so a task the policy hardly knows still has something to prefer; <see cref="SampledPairs"/> counts
/// both). Problems whose samples were all right make no pair. Problem i is drawn as
/// <see cref="TaskPrompts.Make"/> draws it, on the split's side of the task's held-out line, so
/// training and held-out pairs never share a problem.
/// </summary>
public static class SampledPreferences
{
    public const string DataName = "sampled";

    /// <summary>The tasks sampled by default: those the SFT model has room to improve on (the README's measured SFT accuracies).</summary>
    public static IReadOnlyList<string> TaskNames { get; } = ["lists", "arithmetic-hard", "subtraction-hard"];

    public const int DefaultSamples = 4;

    /// <param name="maxReply">The longest reply sampled; only replies that ended with a stop token are judged (one cut off there has no end to learn from).</param>
    public static SampledPairs Make(ChatGeneration generation, IReadOnlyList<IChatTask> tasks, DataSplit split, int problemsPerTask, int samples, double temperature, int seed,
        int maxReply = ChatGeneration.DefaultMaxReply)
    {
        if (tasks.Count == 0) throw new ConfigurationException("sampled preference pairs need at least one chat task");
        if (problemsPerTask < 1 || samples < 1) throw new ConfigurationException($"sampled pairs need at least one problem and one sample each, got {problemsPerTask} and {samples}");
        if (!(temperature > 0)) throw new ConfigurationException($"--temperature {temperature}: sampling needs a positive temperature");
        var sets = tasks.Select(t => (Task: t, Set: TaskPrompts.Make(t, generation.Renderer, split, problemsPerTask, seed))).ToList();
        foreach (var (task, set) in sets) CheckPlain(task, set.Problems[0]);
        int first = -1;
        var sampling = new SamplingOptions(temperature);
        for (int t = 0; t < sets.Count; t++)
            for (int p = 0; p < problemsPerTask; p++)
                for (int s = 0; s < samples; s++)
                {
                    int id = generation.Generator.Submit(generation.Turn(sets[t].Set.Prompts[p], sampling, SampleSeed(seed, split, t, p, s), maxReply));
                    if (first < 0) first = id;
                }
        var results = generation.Generator.Run().Where(r => r.Request >= first).ToList();
        var (pairs, pairTasks) = (new List<PreferencePair>(), new List<string>());
        int onPolicyChosen = 0, referenceChosen = 0, allRight = 0;
        for (int t = 0, r = 0; t < sets.Count; t++)
            for (int p = 0; p < problemsPerTask; p++, r += samples)
            {
                var problem = sets[t].Set.Problems[p];
                var replies = results.GetRange(r, samples);
                var right = replies.Where(x => x.Reason == FinishReason.StopToken && sets[t].Task.IsCorrect(problem, x.Text)).Select(x => x.Text).Distinct().ToList();
                var wrong = replies.Where(x => x.Reason != FinishReason.Length && !sets[t].Task.IsCorrect(problem, x.Text)).Select(x => x.Text).Distinct().ToList();
                if (wrong.Count == 0)
                {
                    if (right.Count > 0) allRight++;
                    continue;
                }
                string question = problem.Prompt[^1].Content;
                for (int w = 0; w < wrong.Count; w++)
                {
                    if (right.Count > 0) onPolicyChosen++;
                    else referenceChosen++;
                    pairs.Add(new PreferencePair(question, right.Count > 0 ? right[w % right.Count] : problem.Reply[0].Content, wrong[w]));
                    pairTasks.Add(sets[t].Task.Name);
                }
            }
        return new SampledPairs(pairs, pairTasks, onPolicyChosen, referenceChosen, allRight);
    }

    /// <summary>The sampler's seed for sample s of problem p of task t: distinct per split, so held-out samples are not the training ones replayed.</summary>
    private static ulong SampleSeed(int seed, DataSplit split, int task, int problem, int sample) =>
        (ulong)(uint)SyntheticConversations.SeedOf(seed, ((long)task << 40) | ((long)problem << 8) | (uint)sample, split);

    private static void CheckPlain(IChatTask task, ChatProblem problem)
    {
        if (problem.Prompt is not [{ Role: ChatRole.User }] || problem.Reply is not [{ Role: ChatRole.Assistant }])
            throw new ConfigurationException($"chat task {task.Name}: its problems are not one question and one plain reply (a tool call?), so they make no preference pairs; choose among {string.Join(", ", ChatTasks.Names.Where(n => n != "tool-arithmetic"))}");
    }
}

/// <summary>Sampled pairs, the task of each, and where their chosen replies came from: a correct sample, or the task's own reply where no sample was correct; and the problems every sample got right (no pair).</summary>
public sealed record SampledPairs(IReadOnlyList<PreferencePair> Pairs, IReadOnlyList<string> Tasks, int OnPolicyChosen, int ReferenceChosen, int AllRight)
{
    public string Summary => string.Create(CultureInfo.InvariantCulture,
        $"{Pairs.Count} pairs (chosen: {OnPolicyChosen} sampled, {ReferenceChosen} the task's reply; {AllRight} problems all right, no pair)");
}
