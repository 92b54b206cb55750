using System.Globalization;
using Dataflow.Engine.Sessions;

namespace Dataflow.Training;

/// <summary>
/// What an evaluator measured: the validation loss (what early stopping and the final report use),
/// named metrics in the order they should be shown, and where the evaluator measures them, an
/// accuracy and an estimate of the training loss.
/// </summary>
public sealed record Evaluation(double Loss, IReadOnlyList<KeyValuePair<string, double>> Metrics)
{
    /// <summary>The headline accuracy (classification accuracy, exact match); NaN where there is none.</summary>
    public double Accuracy { get; init; } = double.NaN;

    /// <summary>The evaluator's own estimate of the training loss (a language model's); NaN: the trainer reports the mean since the last evaluation.</summary>
    public double TrainLoss { get; init; } = double.NaN;

    /// <summary>More detail for verbose output (a sequence task's accuracy per length).</summary>
    public string? Detail { get; init; }

    /// <summary>The metrics as one line: <c>val_loss 0.4321  val_acc 0.8812</c>.</summary>
    public string Summary => string.Join("  ", Metrics.Select(m => string.Create(CultureInfo.InvariantCulture, $"{m.Key} {m.Value:F4}")));

    public static KeyValuePair<string, double> Metric(string name, double value) => new(name, value);
}

/// <summary>Measures a session's model on held-out data; called by the trainer every evaluation interval.</summary>
public interface IEvaluator
{
    Evaluation Evaluate(Session session);
}
