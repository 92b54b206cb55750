using System.CommandLine;
using System.Text.Json.Nodes;
using Dataflow.Engine.Compile;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Training;

namespace Dataflow.Runner.Commands;

/// <summary><c>dataflow train MODEL --data fashion-mnist …</c></summary>
public static class TrainCommand
{
    public static Command Create()
    {
        var model = new Argument<string>("model") { Description = "The .dfg model file" };
        var data = new Option<string>("--data") { Description = "Dataset: fashion-mnist", Required = true };
        var epochs = new Option<int?>("--epochs") { Description = "Total epochs to reach (a resumed run continues to this count)" };
        var batch = new Option<int?>("--batch") { Description = "Mini-batch size" };
        var lr = new Option<double?>("--lr") { Description = "Peak learning rate" };
        var checkpoint = new Option<string?>("--checkpoint") { Description = "Save a checkpoint here after every epoch (atomically)" };
        var resume = new Option<string?>("--resume") { Description = "Continue from this checkpoint" };
        var (seed, preset, set, json, backend, verbose, noFusion) =
            (CommonOptions.Seed(), CommonOptions.Preset(), CommonOptions.Set(), CommonOptions.Json(), CommonOptions.Backend(), CommonOptions.Verbose(), CommonOptions.NoFusion());
        var command = new Command("train", "Train a model")
        {
            model, data, epochs, batch, lr, seed, preset, set, checkpoint, resume, json, backend, verbose, noFusion,
        };
        command.SetAction(r =>
        {
            var settings = new TrainSettings
            {
                ModelPath = r.GetValue(model)!,
                Data = r.GetValue(data)!,
                Epochs = r.GetValue(epochs),
                Batch = r.GetValue(batch),
                LearningRate = r.GetValue(lr),
                Seed = r.GetValue(seed),
                Preset = r.GetValue(preset),
                Overrides = r.GetValue(set) ?? [],
                CheckpointPath = r.GetValue(checkpoint),
                ResumePath = r.GetValue(resume),
                Json = r.GetValue(json),
                Backend = r.GetValue(backend)!,
                Verbose = r.GetValue(verbose),
                Compile = new CompileOptions { Fusion = !r.GetValue(noFusion) },
            };
            var progress = ProgressSink.Create(settings.Json);
            var result = ClassifierTrainer.Run(settings, progress);
            progress.Line($"done: {result.Steps} steps in {result.Seconds:F1} s; final train loss {result.FinalLoss:F6}, validation accuracy {result.ValidationAccuracy:F4}");
            if (settings.Json)
                Console.WriteLine(new JsonObject
                {
                    ["final_loss"] = result.FinalLoss, ["steps"] = result.Steps, ["epochs"] = result.Epochs,
                    ["val_loss"] = result.ValidationLoss, ["val_accuracy"] = result.ValidationAccuracy, ["seconds"] = result.Seconds,
                }.ToJsonString());
            return ExitCodes.Ok;
        });
        return command;
    }
}
