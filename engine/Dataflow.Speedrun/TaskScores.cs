using Dataflow.Chat;
using Dataflow.Chat.Tasks;
using Dataflow.Engine.Backends;
using Dataflow.Generation;

namespace Dataflow.Speedrun;

/// <summary>
/// A chat checkpoint's held-out accuracy on every chat task, measured as <c>eval --chat-task</c> measures it
/// (<see cref="ChatEvaluation"/>: the same questions for every model, greedy replies, the calculator answering).
/// </summary>
public static class TaskScores
{
    public static IReadOnlyList<ChatTaskScore> Of(string checkpoint, IBackend backend, int count, int seed, Func<WordList> words)
    {
        var model = CheckpointModel.Open(checkpoint, backend);
        try
        {
            using var generation = new ChatGeneration(model.Session, model.Config, new ChatTokens(model.Tokenizer), slots: Math.Min(count, 32));
            return [.. ChatTasks.Names.Select(name => ChatEvaluation.Score(generation, ChatTasks.Create(name, words), count, seed))];
        }
        finally { model.Session.Dispose(); }
    }
}
