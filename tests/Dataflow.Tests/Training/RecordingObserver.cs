using Dataflow.Training;

namespace Dataflow.Tests.Training;

/// <summary>The test observer: keeps everything a run reports, and can stop the run like a kill.</summary>
public sealed class RecordingObserver : ITrainingObserver
{
    public List<StepReport> Steps { get; } = [];
    public List<EvaluationReport> Evaluations { get; } = [];
    public List<string> Messages { get; } = [];
    public TrainResult? Result { get; private set; }

    /// <summary>Throws <see cref="OperationCanceledException"/> at the first step after an evaluation at this step.</summary>
    public long? KillAfterEvaluationAt { get; init; }

    public string Log => string.Join("\n", Messages);

    public void OnStep(StepReport step)
    {
        if (KillAfterEvaluationAt is { } at && Evaluations.Any(e => e.Step == at)) throw new OperationCanceledException("killed");
        Steps.Add(step);
    }

    public void OnEvaluation(EvaluationReport report) => Evaluations.Add(report);
    public void OnMessage(string text) => Messages.Add(text);
    public void OnEnd(TrainResult result) => Result = result;
}
