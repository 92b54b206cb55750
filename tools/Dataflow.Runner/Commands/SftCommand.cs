using System.CommandLine;
using System.Text.Json.Nodes;
using Dataflow.Backends;
using Dataflow.Chat.Sft;
using Dataflow.Engine.Compile;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Progress;
using Dataflow.Training;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow sft --from BASE --data synthetic|FILE.jsonl --checkpoint OUT</c>: supervised fine-tuning
/// of a language-model checkpoint on conversations (<see cref="SftRun"/>), with the training loop's
/// progress and, for synthetic data, each task's held-out accuracy at the end.
/// </summary>
public static class SftCommand
{
    public static Command Create()
    {
        var from = new Option<string>("--from") { Description = "The base checkpoint (written by train --text, e.g. --text synthetic)", Required = true };
        var data = new Option<string>("--data") { Description = "synthetic (the chat tasks) or a JSONL file of {\"messages\": [{\"role\", \"content\"}, …]}", DefaultValueFactory = _ => "synthetic" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Save the fine-tuned checkpoint here (atomically) at every evaluation" };
        var resume = new Option<string?>("--resume") { Description = "Continue an interrupted SFT from its checkpoint" };
        var steps = new Option<int?>("--steps") { Description = $"Optimizer steps (default {SftRun.DefaultSteps})" };
        var batch = new Option<int?>("--batch") { Description = "Rows of packed conversations per step (default: the model file's batch)" };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate (default: half the model file's)" };
        var minLr = new Option<double?>("--min-lr") { Description = "The learning rate the cosine decay ends at (default: a tenth of the peak)" };
        var warmup = new Option<int?>("--warmup") { Description = "Warm-up steps" };
        var evalInterval = new Option<int?>("--eval-interval") { Description = "Estimate the held-out loss (and checkpoint) every N steps" };
        var evalCount = new Option<int>("--eval-count") { Description = "With --data synthetic: held-out problems per task in the accuracy report at the end (0: none)", DefaultValueFactory = _ => 100 };
        var log = new Option<string?>("--log") { Description = "Write metrics here as JSON lines" };
        var lora = LoraFlag.Create();
        var (seed, json, backend, verbose, noFusion) = (CommonOptions.Seed(), CommonOptions.Json(), CommonOptions.Backend(), CommonOptions.Verbose(), CommonOptions.NoFusion());
        var command = new Command("sft", "Supervised fine-tuning of a language model on conversations (the assistant's tokens only)")
        {
            from, data, checkpoint, resume, steps, batch, lr, minLr, warmup, evalInterval, evalCount, log, lora, seed, json, backend, verbose, noFusion,
        };
        command.SetAction(r =>
        {
            if (r.GetValue(evalCount) < 0) throw new UsageException($"--eval-count {r.GetValue(evalCount)}: must be 0 or more");
            bool asJson = r.GetValue(json);
            var progress = ConsoleProgress.Create(asJson);
            var (plan, description) = SftRun.Plan(new SftSettings
            {
                Data = r.GetValue(data)!, CheckpointPath = r.GetValue(checkpoint), ResumePath = r.GetValue(resume),
                Steps = r.GetValue(steps), Batch = r.GetValue(batch), LearningRate = r.GetValue(lr), MinLearningRate = r.GetValue(minLr),
                Warmup = r.GetValue(warmup), EvalInterval = r.GetValue(evalInterval), EvalCount = r.GetValue(evalCount),
                Seed = r.GetValue(seed), Verbose = r.GetValue(verbose), Compile = new CompileOptions { Fusion = !r.GetValue(noFusion) },
            }, SftModel.Open(r.GetValue(from)!, LoraFlag.Read(r, lora)));
            progress.Line(description);
            using var metrics = r.GetValue(log) is { } path ? new JsonlMetricsObserver(path) : null;
            ITrainingObserver[] observers = metrics is null ? [progress] : [progress, metrics];
            var result = progress.Show(() => Trainer.Run(plan, BackendCatalog.Create(r.GetValue(backend)!), observers));
            progress.Line($"done: {result.Steps} steps in {result.Seconds:F1} s; held-out loss {result.ValidationLoss:F4}" +
                          (double.IsNaN(result.ValidationAccuracy) ? "" : $", mean held-out task accuracy {result.ValidationAccuracy:F4}"));
            if (asJson)
            {
                var summary = new JsonObject { ["steps"] = result.Steps, ["val_loss"] = result.ValidationLoss, ["seconds"] = result.Seconds };
                if (!double.IsNaN(result.ValidationAccuracy)) summary["mean_accuracy"] = result.ValidationAccuracy;
                Console.WriteLine(summary.ToJsonString());
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
