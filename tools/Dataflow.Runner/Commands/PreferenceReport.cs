using System.Globalization;
using System.Text.Json.Nodes;
using Dataflow.Runner.Progress;
using Dataflow.Training;

namespace Dataflow.Runner.Commands;

/// <summary>A preference run's numbers before and after: the held-out pair accuracy and each task's held-out accuracy, as lines and as JSON.</summary>
internal sealed record PreferenceReport(IReadOnlyList<string> Lines, JsonObject Json)
{
    /// <param name="pairGroups">Groups (tasks) of held-out pairs whose own pair accuracy the evaluations carry (<see cref="Reinforcement.RewardModelRun.GroupAccuracy"/>).</param>
    public static PreferenceReport Of(Evaluation before, Evaluation after, string pairAccuracy, IEnumerable<string> tasks, IEnumerable<string>? pairGroups = null)
    {
        var (lines, json) = (new List<string>(), new JsonObject());
        void Add(string label, string key, string metric)
        {
            double b = Value(before, metric), a = Value(after, metric);
            lines.Add(string.Create(CultureInfo.InvariantCulture, $"{label}: {b:F4} -> {a:F4}"));
            json[key] = new JsonObject { ["before"] = b, ["after"] = a };
        }
        Add("held-out pair accuracy", "heldout_pair_accuracy", pairAccuracy);
        foreach (var group in pairGroups ?? []) Add($"  {group} pairs", Reinforcement.RewardModelRun.GroupAccuracy(group), Reinforcement.RewardModelRun.GroupAccuracy(group));
        foreach (var task in tasks) Add($"held-out {task} accuracy", task, task + "_acc");
        return new PreferenceReport(lines, json);
    }

    /// <summary>The lines and the run's time for people (stderr under --json), and the JSON summary on stdout with --json.</summary>
    public void Print(ConsoleProgress progress, TrainResult result, bool asJson)
    {
        foreach (var line in Lines) progress.Line(line);
        progress.Line(string.Create(CultureInfo.InvariantCulture, $"done: {result.Steps} steps in {result.Seconds:F1} s"));
        if (!asJson) return;
        Json["steps"] = result.Steps;
        Json["seconds"] = result.Seconds;
        Console.WriteLine(Json.ToJsonString());
    }

    private static double Value(Evaluation evaluation, string metric) =>
        evaluation.Metrics.Where(m => m.Key == metric).Select(m => m.Value).DefaultIfEmpty(double.NaN).First();
}
