namespace Dataflow.Training;

/// <summary>One optimizer step as it happened: its loss, the learning rate it used, what it held and how long it took.</summary>
public sealed record StepReport(long Step, long TotalSteps, double Loss, double LearningRate, int Examples, long Tokens, double Seconds)
{
    public double ExamplesPerSecond => Seconds > 0 ? Examples / Seconds : double.NaN;
    public double TokensPerSecond => Seconds > 0 && Tokens > 0 ? Tokens / Seconds : double.NaN;

    /// <summary>The batch source's own numbers for this step (<see cref="TrainingBatch.Metrics"/>), in the order to show them.</summary>
    public IReadOnlyList<KeyValuePair<string, double>> Metrics { get; init; } = [];
}

/// <summary>An evaluation: the step, the training loss since the last one, the next step's learning rate, seconds since the start.</summary>
public sealed record EvaluationReport(long Step, long TotalSteps, double TrainLoss, double LearningRate, double ElapsedSeconds, Evaluation Evaluation);

/// <summary>
/// Where a <see cref="Trainer"/> reports: a progress bar, a metrics log, a test. Every method has
/// an empty default, so an observer implements only what it wants. Observers must not throw,
/// except to stop the run (the exception leaves <see cref="Trainer.Run"/> unchanged).
/// </summary>
public interface ITrainingObserver
{
    void OnStart(string title, long firstStep, long totalSteps) { }
    void OnStep(StepReport step) { }
    void OnEvaluation(EvaluationReport report) { }

    /// <summary>A line for people: set-up facts, resumption, averaging, the summary at the end.</summary>
    void OnMessage(string text) { }

    void OnEnd(TrainResult result) { }
}

/// <summary>What a training run reports at the end (the runner also prints it as <c>--json</c>).</summary>
/// <param name="FinalLoss">The training loss reported at the last evaluation of the loop (NaN if none ran).</param>
/// <param name="ValidationAccuracy">Classification accuracy or exact match; NaN for a language model.</param>
public sealed record TrainResult(double FinalLoss, long Steps, int Epochs, double ValidationLoss, double ValidationAccuracy, double Seconds)
{
    /// <summary>True when the plan's <see cref="TrainingPlan.Deadline"/> stopped the run before its last step.</summary>
    public bool StoppedAtDeadline { get; init; }
}
