using System.Globalization;
using Dataflow.Chat.Tasks;
using Dataflow.Generation;

namespace Dataflow.Chat;

/// <summary>One task's held-out accuracy, with a few replies to look at.</summary>
public sealed record ChatTaskScore(string Task, int Correct, int Count, IReadOnlyList<(string Question, string Reply, bool Correct)> Samples)
{
    public double Accuracy => Count == 0 ? double.NaN : Correct / (double)Count;

    public string Summary => string.Create(CultureInfo.InvariantCulture, $"{Task}: {Accuracy:F4} ({Correct}/{Count} held-out)");
}

/// <summary>
/// Held-out accuracy on a chat task: each test problem's prompt is rendered as a conversation, the
/// assistant's turn is generated greedily (the calculator answering its calls), and the task checks it.
/// Problem i is drawn with seed (seed, i), so every model is measured on the same questions.
/// </summary>
public static class ChatEvaluation
{
    public const int DefaultCount = 200;
    private const int KeptSamples = 5;

    public static ChatTaskScore Score(ChatGeneration generation, IChatTask task, int count = DefaultCount, int seed = 1)
    {
        if (count < 1) throw new Engine.ConfigurationException($"--count {count}: must be at least 1");
        var problems = new List<ChatProblem>(count);
        for (int i = 0; i < count; i++)
        {
            var problem = task.Make(new Random(SyntheticConversations.SeedOf(seed, i, DataSplit.Test)), DataSplit.Test);
            problems.Add(problem);
            generation.Generator.Submit(generation.Turn(generation.Renderer.RenderPrompt(problem.Prompt), new SamplingOptions(Temperature: 0), (ulong)i));
        }
        var results = generation.Generator.Run().TakeLast(count).ToList();
        int correct = 0;
        var samples = new List<(string, string, bool)>();
        for (int i = 0; i < count; i++)
        {
            bool ok = task.IsCorrect(problems[i], results[i].Text);
            if (ok) correct++;
            if (samples.Count < KeptSamples) samples.Add((problems[i].Prompt[^1].Content, results[i].Text, ok));
        }
        return new ChatTaskScore(task.Name, correct, count, samples);
    }
}
