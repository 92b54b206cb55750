namespace Dataflow.Training;

/// <summary>Several observers as one, called in the order given.</summary>
public sealed class ObserverList(IReadOnlyList<ITrainingObserver> observers) : ITrainingObserver
{
    public void OnStart(string title, long firstStep, long totalSteps) { foreach (var o in observers) o.OnStart(title, firstStep, totalSteps); }
    public void OnStep(StepReport step) { foreach (var o in observers) o.OnStep(step); }
    public void OnEvaluation(EvaluationReport report) { foreach (var o in observers) o.OnEvaluation(report); }
    public void OnMessage(string text) { foreach (var o in observers) o.OnMessage(text); }
    public void OnEnd(TrainResult result) { foreach (var o in observers) o.OnEnd(result); }
}
