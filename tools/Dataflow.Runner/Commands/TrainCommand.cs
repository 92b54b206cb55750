using System.CommandLine;
using System.Text.Json.Nodes;
using Dataflow.Engine.Compile;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Training;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow train MODEL</c> with one source of examples: <c>--data</c> (a classification
/// dataset), <c>--text</c> (next-token pre-training on a text file) or <c>--task</c> (a generated
/// transduction task for an encoder–decoder).
/// </summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .dfg model file" };
        var data = new Option<string?>("--data") { Description = "Classification dataset: fashion-mnist" };
        var text = new Option<string?>("--text") { Description = "Train a language model on this text file (90% train, 10% validation)" };
        var task = new Option<string?>("--task") { Description = "Train an encoder–decoder on a generated task: reverse | sort" };
        var tokenizer = new Option<string>("--tokenizer") { Description = "With --text: char | bpe:N | a vocab.json/merges.txt path | cl100k_base | o200k_base", DefaultValueFactory = _ => "char" };
        var epochs = new Option<int?>("--epochs") { Description = "With --data: total epochs to reach (a resumed run continues to this count)" };
        var steps = new Option<int?>("--steps") { Description = "With --text or --task: total optimizer steps to reach" };
        var batch = new Option<int?>("--batch") { Description = "Mini-batch size" };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate" };
        var minLr = new Option<double?>("--min-lr") { Description = "With --text: the learning rate the cosine decay ends at" };
        var warmup = new Option<int?>("--warmup") { Description = "With --text or --task: warm-up steps" };
        var evalInterval = new Option<int?>("--eval-interval") { Description = "With --text or --task: evaluate every N steps" };
        var evalIters = new Option<int?>("--eval-iters") { Description = "With --text: batches per loss estimate" };
        var minLength = new Option<int>("--min-length") { Description = "With --task: shortest source sequence", DefaultValueFactory = _ => 5 };
        var maxLength = new Option<int>("--max-length") { Description = "With --task: longest source sequence", DefaultValueFactory = _ => 20 };
        var evalPerLength = new Option<int?>("--eval-per-length") { Description = "With --task: held-out sequences per source length" };
        var average = new Option<int?>("--average") { Description = "With --task: end on the mean of the parameters at the last N snapshots (the paper's checkpoint averaging; 0: off)" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Save a checkpoint here (atomically) at every evaluation or epoch" };
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint" };
        var (seed, preset, set, json, backend, verbose, noFusion) =
            (CommonOptions.Seed(), CommonOptions.Preset(), CommonOptions.Set(), CommonOptions.Json(), CommonOptions.Backend(), CommonOptions.Verbose(), CommonOptions.NoFusion());
        var command = new Command("train", "Train a model")
        {
            model, data, text, task, tokenizer, epochs, steps, batch, lr, minLr, warmup, evalInterval, evalIters, minLength, maxLength, evalPerLength, average,
            seed, preset, set, checkpoint, resume, json, backend, verbose, noFusion,
        };
        command.SetAction(r =>
        {
            var sources = new[] { r.GetValue(data), r.GetValue(text), r.GetValue(task) }.Count(v => v is not null);
            if (sources != 1) throw new UsageException("train needs exactly one of --data, --text or --task");
            bool asJson = r.GetValue(json);
            var compile = new CompileOptions { Fusion = !r.GetValue(noFusion) };
            var progress = ProgressSink.Create(asJson);
            TrainResult result;
            if (r.GetValue(text) is { } textPath)
            {
                result = LanguageModelTrainer.Run(new LanguageModelSettings
                {
                    ModelPath = r.GetValue(model)!, TextPath = textPath, Tokenizer = r.GetValue(tokenizer)!,
                    Steps = r.GetValue(steps), Batch = r.GetValue(batch), LearningRate = r.GetValue(lr), MinLearningRate = r.GetValue(minLr),
                    Warmup = r.GetValue(warmup), EvalInterval = r.GetValue(evalInterval), EvalIters = r.GetValue(evalIters),
                    Seed = r.GetValue(seed), Preset = r.GetValue(preset), Overrides = r.GetValue(set) ?? [],
                    CheckpointPath = r.GetValue(checkpoint), ResumePath = r.GetValue(resume), Json = asJson,
                    Backend = r.GetValue(backend)!, Verbose = r.GetValue(verbose), Compile = compile,
                }, progress);
            }
            else if (r.GetValue(task) is { } taskName)
            {
                result = Seq2SeqTrainer.Run(new Seq2SeqSettings
                {
                    ModelPath = r.GetValue(model)!, Task = taskName, Steps = r.GetValue(steps), Batch = r.GetValue(batch),
                    LearningRate = r.GetValue(lr), Warmup = r.GetValue(warmup), MinLength = r.GetValue(minLength), MaxLength = r.GetValue(maxLength),
                    EvalEvery = r.GetValue(evalInterval), EvalPerLength = r.GetValue(evalPerLength) ?? Tasks.HeldOutSet.DefaultPerLength,
                    Average = r.GetValue(average),
                    Seed = r.GetValue(seed), Preset = r.GetValue(preset), Overrides = r.GetValue(set) ?? [],
                    CheckpointPath = r.GetValue(checkpoint), ResumePath = r.GetValue(resume), Json = asJson,
                    Backend = r.GetValue(backend)!, Verbose = r.GetValue(verbose), Compile = compile,
                }, progress);
            }
            else
            {
                result = ClassifierTrainer.Run(new TrainSettings
                {
                    ModelPath = r.GetValue(model)!, Data = r.GetValue(data)!, Epochs = r.GetValue(epochs), Batch = r.GetValue(batch),
                    LearningRate = r.GetValue(lr), Seed = r.GetValue(seed), Preset = r.GetValue(preset), Overrides = r.GetValue(set) ?? [],
                    CheckpointPath = r.GetValue(checkpoint), ResumePath = r.GetValue(resume), Json = asJson,
                    Backend = r.GetValue(backend)!, Verbose = r.GetValue(verbose), Compile = compile,
                }, progress);
            }
            progress.Line($"done: {result.Steps} steps in {result.Seconds:F1} s; final loss {result.FinalLoss:F6}, validation loss {result.ValidationLoss:F6}" +
                          (double.IsNaN(result.ValidationAccuracy) ? "" : $", validation accuracy {result.ValidationAccuracy:F4}"));
            if (asJson)
            {
                var summary = new JsonObject
                {
                    ["final_loss"] = result.FinalLoss, ["steps"] = result.Steps, ["val_loss"] = result.ValidationLoss, ["seconds"] = result.Seconds,
                };
                if (result.Epochs > 0) summary["epochs"] = result.Epochs;
                if (!double.IsNaN(result.ValidationAccuracy)) summary["val_accuracy"] = result.ValidationAccuracy;
                Console.WriteLine(summary.ToJsonString());
            }
            return ExitCodes.Ok;
        });
        return command;
    }
}
