using Dataflow.Training;

namespace Dataflow.Speedrun;

/// <summary>A stage's training run as the report card needs it: every evaluation, every step's own metrics (an RL step's mean reward) and the result.</summary>
public sealed class StageRecorder : ITrainingObserver
{
    private readonly List<EvaluationReport> _evaluations = [];
    private readonly List<StepReport> _steps = [];

    public IReadOnlyList<EvaluationReport> Evaluations => _evaluations;
    public IReadOnlyList<StepReport> Steps => _steps;
    public TrainResult? Result { get; private set; }

    public void OnStep(StepReport step) => _steps.Add(step);
    public void OnEvaluation(EvaluationReport report) => _evaluations.Add(report);
    public void OnEnd(TrainResult result) => Result = result;

    /// <summary>The validation loss before the first step (every stage evaluates first), NaN if none.</summary>
    public double FirstValidationLoss => _evaluations.Count > 0 && _evaluations[0].Step == 0 ? _evaluations[0].Evaluation.Loss : double.NaN;

    /// <summary>One step metric (e.g. <c>mean_reward</c>) over the run, in step order.</summary>
    public IReadOnlyList<double> StepMetric(string name) =>
        [.. _steps.SelectMany(s => s.Metrics.Where(m => m.Key == name).Select(m => m.Value))];

    /// <summary>One evaluation metric at each evaluation, with its step.</summary>
    public IReadOnlyList<(long Step, double Value)> EvaluationMetric(string name) =>
        [.. _evaluations.SelectMany(e => e.Evaluation.Metrics.Where(m => m.Key == name).Select(m => (e.Step, m.Value)))];
}
