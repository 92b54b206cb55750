using System.Globalization;
using System.Text;
using System.Text.Json.Nodes;

namespace Dataflow.Speedrun;

/// <summary>A question from a chat task's held-out set, the final model's reply, and whether the task accepts it.</summary>
public sealed record SampleConversation(string Task, string Question, string Reply, bool Correct);

/// <summary>
/// The speedrun's report card: a table of numbers per stage (time and steps against the plan and the recipe, losses,
/// held-out accuracies per chat task before and after, GRPO's reward curve), the total time against the
/// budget (the run's whole wall time), what the budget cut (a loop stopped at its deadline, a smaller final
/// evaluation), and a few conversations of the final model on held-out questions; as markdown and as one JSON
/// object holding the same numbers.
/// </summary>
public sealed record ReportCard(SpeedrunSettings Settings, double BudgetSeconds, double TotalSeconds, double Scale,
    IReadOnlyList<StageResult> Stages, IReadOnlyList<SampleConversation> Samples)
{
    public bool WithinBudget => TotalSeconds <= BudgetSeconds;

    public string ToMarkdown()
    {
        var md = new StringBuilder();
        void Line(string text = "") => md.Append(text).Append('\n');
        Line("# Speedrun report card");
        Line();
        Line(Invariant($"`{Path.GetFileName(Settings.ModelPath)}`{Overrides()}, seed {Settings.Seed}: wall time **{TotalSeconds / 60:F2} min** ({TotalSeconds:F1} s) of a {BudgetSeconds / 60:G4}-minute budget ") +
                       Invariant($"({(WithinBudget ? "within it" : "over it")}); pre-training and SFT at {Scale:F3} of the model file's recipe; {Settings.EvalCount} held-out problems per chat task."));
        foreach (var stage in Stages)
        {
            Line();
            Line($"## {stage.Name}");
            Line();
            if (stage.Description.Length > 0) Line(stage.Description);
            Line();
            Line("| metric | value |");
            Line("|---|---|");
            Line(Invariant($"| time | {stage.Seconds:F1} s |"));
            if (stage.Steps > 0) Line(Invariant($"| steps | {stage.Steps} of {stage.PlannedSteps} planned{(stage.StoppedAtBudget ? ", stopped at budget" : "")} (recipe {stage.RecipeSteps}) |"));
            foreach (var (name, value) in stage.Metrics) Line($"| {name} | {Number(value)} |");
            if (stage.Checkpoint is { } checkpoint) Line($"| wrote | `{Path.GetFileName(checkpoint)}` |");
            if (stage.Notes.Count > 0)
            {
                Line();
                foreach (var note in stage.Notes) Line($"*Budget:* {note}.");
            }
            if (stage.Accuracies.Count > 0)
            {
                Line();
                Line("| held-out accuracy | before | after |");
                Line("|---|---|---|");
                foreach (var a in stage.Accuracies) Line($"| {a.Task} | {Number(a.Before)} | {Number(a.After)} |");
            }
            if (stage.Rewards is { } r)
            {
                Line();
                Line($"Reward curve (mean reward of the training rollouts per step): first {Number(r.First)}, mean of the first quarter {Number(r.FirstQuarterMean)}, " +
                               $"of the last quarter {Number(r.LastQuarterMean)}, last {Number(r.Last)}, best {Number(r.Best)}; {r.SkippedGroups} tied groups skipped. " +
                               $"Held-out greedy pass@1 by step: {string.Join(", ", r.HeldOut.Select(h => $"{h.Step}: {Number(h.PassAt1)}"))}.");
            }
        }
        Line();
        Line("## Sample conversations (final model, held-out questions)");
        Line();
        foreach (var s in Samples)
        {
            Line($"- *{s.Task}* — **user:** {Escape(s.Question)}  ");
            Line($"  **assistant:** {(s.Reply.Length == 0 ? "*(nothing)*" : Escape(s.Reply))} {(s.Correct ? "(correct)" : "(wrong)")}");
        }
        return md.ToString();
    }

    public JsonObject ToJson()
    {
        var stages = new JsonObject();
        foreach (var stage in Stages)
        {
            var entry = new JsonObject
            {
                ["seconds"] = stage.Seconds, ["steps"] = stage.Steps, ["planned_steps"] = stage.PlannedSteps, ["recipe_steps"] = stage.RecipeSteps,
                ["stopped_at_budget"] = stage.StoppedAtBudget, ["checkpoint"] = stage.Checkpoint,
                ["notes"] = new JsonArray([.. stage.Notes.Select(n => (JsonNode)JsonValue.Create(n))]),
            };
            foreach (var (name, value) in stage.Metrics) entry[name] = Json(value);
            if (stage.Accuracies.Count > 0)
            {
                var accuracy = new JsonObject();
                foreach (var a in stage.Accuracies) accuracy[a.Task] = new JsonObject { ["before"] = Json(a.Before), ["after"] = Json(a.After) };
                entry["accuracy"] = accuracy;
            }
            if (stage.Rewards is { } r)
                entry["reward_curve"] = new JsonObject
                {
                    ["first"] = Json(r.First), ["first_quarter_mean"] = Json(r.FirstQuarterMean), ["last_quarter_mean"] = Json(r.LastQuarterMean),
                    ["last"] = Json(r.Last), ["best"] = Json(r.Best), ["skipped_groups"] = r.SkippedGroups,
                    ["heldout_pass@1"] = new JsonArray([.. r.HeldOut.Select(h => (JsonNode)new JsonObject { ["step"] = h.Step, ["value"] = Json(h.PassAt1) })]),
                };
            stages[stage.Name] = entry;
        }
        return new JsonObject
        {
            ["model"] = Path.GetFileName(Settings.ModelPath), ["seed"] = Settings.Seed, ["budget_seconds"] = BudgetSeconds, ["total_seconds"] = TotalSeconds,
            ["within_budget"] = WithinBudget, ["scale"] = Scale, ["eval_count"] = Settings.EvalCount, ["rl_task"] = Settings.RlTask,
            ["stages"] = stages,
            ["samples"] = new JsonArray([.. Samples.Select(s => (JsonNode)new JsonObject { ["task"] = s.Task, ["question"] = s.Question, ["reply"] = s.Reply, ["correct"] = s.Correct })]),
        };
    }

    private string Overrides() => Settings.Overrides.Count == 0 ? "" : " (" + string.Join(", ", Settings.Overrides.Select(kv => $"{kv.Key}={kv.Value}")) + ")";

    private static string Invariant(FormattableString text) => text.ToString(CultureInfo.InvariantCulture);

    private static string Number(double value) => double.IsNaN(value) ? "–" : value.ToString("0.####", CultureInfo.InvariantCulture);

    private static JsonNode? Json(double value) => double.IsFinite(value) ? JsonValue.Create(value) : null;

    private static string Escape(string text) => text.Replace("|", "\\|").Replace("\n", " ");
}
