using System.Globalization;
using Dataflow.Chat.Tasks;
using Dataflow.Engine.Sessions;
using Dataflow.Training;

namespace Dataflow.Chat.Sft;

/// <summary>
/// SFT's final report: the held-out masked loss and, for each task, the accuracy of replies generated
/// from the weights being trained (<see cref="ChatEvaluation"/>); the headline accuracy is the tasks' mean.
/// </summary>
public sealed class ChatTaskEvaluator(IEvaluator loss, IReadOnlyList<IChatTask> tasks, int count, int seed, Func<Session, ChatGeneration> open) : IEvaluator
{
    public Evaluation Evaluate(Session session)
    {
        var measured = loss.Evaluate(session);
        using var generation = open(session);
        var scores = tasks.Select(t => ChatEvaluation.Score(generation, t, count, seed)).ToList();
        var metrics = measured.Metrics.Concat(scores.Select(s => Evaluation.Metric(s.Task + "_acc", s.Accuracy))).ToList();
        string detail = string.Create(CultureInfo.InvariantCulture, $"held-out accuracy: {string.Join(", ", scores.Select(s => s.Summary))}; val_loss {measured.Loss:F4}");
        return new Evaluation(measured.Loss, metrics) { Accuracy = scores.Average(s => s.Accuracy), Detail = detail };
    }
}
