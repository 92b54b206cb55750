using System.Globalization;
using System.Text.Json.Nodes;
using Dataflow.Training;

namespace Dataflow.Runner.Commands;

/// <summary>A preference run's numbers before and after: the held-out pair accuracy and each task's held-out accuracy, as lines and as JSON.</summary>
internal sealed record PreferenceReport(IReadOnlyList<string> Lines, JsonObject Json)
{
    public static PreferenceReport Of(Evaluation before, Evaluation after, string pairAccuracy, IEnumerable<string> tasks)
    {
        var (lines, json) = (new List<string>(), new JsonObject());
        void Add(string label, string key, string metric)
        {
            double b = Value(before, metric), a = Value(after, metric);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: {b:F4} -> {a:F4}"));
            json[key] = new JsonObject { ["before"] = b, ["after"] = a };
        }
        Add("held-out pair accuracy", "heldout_pair_accuracy", pairAccuracy);
        foreach (var task in tasks) Add($"held-out {task} accuracy", task, task + "_acc");
        return new PreferenceReport(lines, json);
    }

    private static double Value(Evaluation evaluation, string metric) =>
        evaluation.Metrics.Where(m => m.Key == metric).Select(m => m.Value).DefaultIfEmpty(double.NaN).First();
}
