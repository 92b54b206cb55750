using System.CommandLine;
using System.Text.Json;
using Dataflow.Backends;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Progress;
using Dataflow.Speedrun;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow speedrun [--minutes M] [--json] [--out DIR] [--seed S]</c>: the whole chat pipeline
/// (<see cref="SpeedrunPipeline"/>: tokenizer, pre-training, SFT, GRPO) fitted to a time budget. Progress
/// goes to stderr; the report card is written to DIR/report.md (and report.json) and printed on stdout,
/// as markdown or, with --json, as one JSON object.
/// </summary>
public static class SpeedrunCommand
{
    private static readonly JsonSerializerOptions Indented = new() { WriteIndented = true };

    public static Command Create()
    {
        var minutes = new Option<double>("--minutes") { Description = "The time budget; each stage's steps are scaled from the model file's recipe to fit it", DefaultValueFactory = _ => SpeedrunSettings.DefaultMinutes };
        var output = new Option<string>("--out") { Description = "Where each stage's checkpoint and metrics log and the report card go", DefaultValueFactory = _ => "speedrun" };
        var model = new Option<string?>("--model") { Description = "The chat model file (default graph/models/chat.dfg); its train(...) line is the recipe" };
        var rlTask = new Option<string>("--rl-task") { Description = "The chat task GRPO practises", DefaultValueFactory = _ => SpeedrunSettings.DefaultRlTask };
        var evalCount = new Option<int>("--eval-count") { Description = "Held-out problems per chat task in each accuracy measurement", DefaultValueFactory = _ => SpeedrunSettings.DefaultEvalCount };
        var (seed, set, json, backend) = (CommonOptions.Seed(), CommonOptions.Set(), CommonOptions.Json(), CommonOptions.Backend());
        var command = new Command("speedrun", "The whole pipeline in one command: tokenizer, pre-training, SFT and RL (GRPO), ending in a report card")
        {
            minutes, output, model, rlTask, evalCount, seed, set, json, backend,
        };
        command.SetAction(r =>
        {
            string outDir = r.GetValue(output)!;
            var settings = new SpeedrunSettings
            {
                ModelPath = r.GetValue(model) ?? Path.Combine(DemoCommand.RepositoryRoot(), "graph", "models", "chat.dfg"),
                Overrides = CommonOptions.ParseOverrides(r.GetValue(set)), OutputDirectory = outDir, Minutes = r.GetValue(minutes),
                Seed = r.GetValue(seed), RlTask = r.GetValue(rlTask)!, EvalCount = r.GetValue(evalCount),
            }.Validated();
            string backendName = r.GetValue(backend)!;
            bool asJson = r.GetValue(json);
            var progress = ConsoleProgress.Create(json: true);    // progress on stderr: stdout is the report card
            progress.Line($"speedrun of {settings.ModelPath} in {settings.Minutes:G4} minutes, into {outDir}");
            var card = progress.Show(() => SpeedrunPipeline.Run(settings, () => BackendCatalog.Create(backendName), [progress]));
            string markdown = card.ToMarkdown(), jsonText = card.ToJson().ToJsonString(Indented);
            File.WriteAllText(Path.Combine(outDir, "report.md"), markdown);
            File.WriteAllText(Path.Combine(outDir, "report.json"), jsonText + "\n");
            progress.Line($"report card: {Path.Combine(outDir, "report.md")} and report.json");
            Console.Write(asJson ? card.ToJson().ToJsonString() + "\n" : markdown);
            return ExitCodes.Ok;
        });
        return command;
    }
}
