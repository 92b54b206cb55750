using Dataflow.Training;

namespace Dataflow.Reinforcement;

/// <summary>
/// What DPO logs (TRL's rewards/*): the implicit rewards β·(log π − log π_ref) of the chosen and the
/// rejected completions, their margin, the share of pairs whose chosen completion has the higher
/// implicit reward, and the DPO loss −log σ(margin).
/// </summary>
public static class PreferenceMetrics
{
    public const string RewardChosen = "reward_chosen", RewardRejected = "reward_rejected", Margin = "margin", Accuracy = "accuracy", Loss = "dpo_loss";

    /// <summary>Before each name in the evaluation's metrics (the held-out pairs).</summary>
    public const string HeldOutPrefix = "heldout_";

    public static (double Loss, double Accuracy, IReadOnlyList<KeyValuePair<string, double>> Metrics) Of(
        IReadOnlyList<double> chosen, IReadOnlyList<double> rejected, IReadOnlyList<double> refChosen, IReadOnlyList<double> refRejected, double beta, string prefix = "")
    {
        int n = chosen.Count;
        double sumChosen = 0, sumRejected = 0, correct = 0, loss = 0;
        for (int i = 0; i < n; i++)
        {
            double c = beta * (chosen[i] - refChosen[i]), r = beta * (rejected[i] - refRejected[i]), margin = c - r;
            (sumChosen, sumRejected) = (sumChosen + c, sumRejected + r);
            if (margin > 0) correct++;
            loss += Softplus(-margin);
        }
        var metrics = new[]
        {
            Evaluation.Metric(prefix + Loss, loss / n), Evaluation.Metric(prefix + RewardChosen, sumChosen / n),
            Evaluation.Metric(prefix + RewardRejected, sumRejected / n), Evaluation.Metric(prefix + Margin, (sumChosen - sumRejected) / n),
            Evaluation.Metric(prefix + Accuracy, correct / n),
        };
        return (loss / n, correct / n, metrics);
    }

    /// <summary>log(1 + eˣ) without overflow.</summary>
    public static double Softplus(double x) => Math.Max(x, 0) + Math.Log(1 + Math.Exp(-Math.Abs(x)));
}
