using System.CommandLine;
using Dataflow.Backends;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Progress;
using Dataflow.Training;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow demo</c>: the README's first command. Trains the MLP classifier on Fashion-MNIST on
/// the CPU backend, checkpoints it, then evaluates the checkpoint on the held-out test set.
/// </summary>
public static class DemoCommand
{
    public static Command Create()
    {
        var epochs = new Option<int?>("--epochs") { Description = "Override the model's epoch count" };
        var command = new Command("demo", "Train and evaluate the MLP classifier on Fashion-MNIST (CPU)") { epochs };
        command.SetAction(r =>
        {
            string model = Path.Combine(RepositoryRoot(), "graph", "models", "mlp.dfg");
            string checkpoint = Path.Combine(Path.GetTempPath(), "dataflow-demo-mlp.ckpt");
            var progress = ConsoleProgress.Create(json: false);
            progress.Line($"Training {model} on Fashion-MNIST (CPU backend); checkpoint {checkpoint}");
            var plan = ClassifierRun.Plan(new ClassifierSettings
            {
                ModelPath = model, Data = "fashion-mnist", Epochs = r.GetValue(epochs), CheckpointPath = checkpoint,
            });
            var result = progress.Show(() => Trainer.Run(plan, BackendCatalog.Create("cpu"), progress));
            progress.Line($"validation accuracy {result.ValidationAccuracy:F4}");
            progress.Line("");
            EvalCommand.Print(EvalCommand.Evaluate(model, checkpoint, "fashion-mnist", null, [], "cpu"), Console.Out);
            return ExitCodes.Ok;
        });
        return command;
    }

    /// <summary>The checkout the runner was built from: the folder holding Dataflow.sln above the binary or the working directory.</summary>
    public static string RepositoryRoot()
    {
        foreach (var start in new[] { AppContext.BaseDirectory, Environment.CurrentDirectory })
        {
            for (var dir = new DirectoryInfo(start); dir is not null; dir = dir.Parent)
                if (File.Exists(Path.Combine(dir.FullName, "Dataflow.sln"))) return dir.FullName;
        }
        throw new UsageException("cannot find the Dataflow checkout (Dataflow.sln) above the runner or the current directory");
    }
}
