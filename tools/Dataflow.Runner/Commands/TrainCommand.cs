using System.CommandLine;
using System.Text.Json.Nodes;
using Dataflow.Backends;
using Dataflow.Chat;
using Dataflow.Chat.Tasks;
using Dataflow.Engine.Tokenizers;
using Dataflow.Engine.Compile;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Progress;
using Dataflow.Training;
using Dataflow.Training.Tasks;

namespace Dataflow.Runner.Commands;

/// <summary>
/// <c>dataflow train MODEL</c> with one source of examples: <c>--data</c> (a classification
/// dataset), <c>--text</c> (next-token pre-training on a text file) or <c>--task</c> (a generated
/// transduction task for an encoder–decoder). The flags become a <see cref="TrainingPlan"/>; the
/// library's <see cref="Trainer"/> runs it, reporting to the console and to <c>--log</c>. Under
/// <c>mpirun</c> (or <c>--distributed mpi</c>) this process is one rank of a data-parallel run: rank 0
/// alone prints, logs and checkpoints; a failing rank names itself and aborts the job.
/// </summary>
public static class TrainCommand
{
    private sealed class Flags
    {
        public readonly Argument<string> Model = new("model") { Description = "The .dfg model file" };
        public readonly Option<string?> Data = new("--data") { Description = "Classification dataset: fashion-mnist" };
        public readonly Option<string?> Text = new("--text") { Description = "Train a language model on this text file (90% train, 10% validation), or on 'synthetic': the chat tasks' generated base corpus" };
        public readonly Option<string?> ExtraText = new("--extra-text") { Description = "With --text synthetic: add this text file to the generated corpus" };
        public readonly Option<string?> Task = new("--task") { Description = "Train an encoder–decoder on a generated task: reverse | sort" };
        public readonly Option<string> Tokenizer = new("--tokenizer") { Description = "With --text: char | bpe:N | a vocab.json/merges.txt path | cl100k_base | o200k_base", DefaultValueFactory = _ => "char" };
        public readonly Option<int?> Epochs = new("--epochs") { Description = "With --data: total epochs to reach (a resumed run continues to this count)" };
        public readonly Option<int?> Steps = new("--steps") { Description = "With --text or --task: total optimizer steps to reach" };
        public readonly Option<int?> Batch = new("--batch") { Description = "Mini-batch size" };
        public readonly Option<double?> Lr = new("--lr") { Description = "Peak learning rate" };
        public readonly Option<double?> MinLr = new("--min-lr") { Description = "With --text: the learning rate the cosine decay ends at" };
        public readonly Option<int?> Warmup = new("--warmup") { Description = "With --text or --task: warm-up steps" };
        public readonly Option<int?> EvalInterval = new("--eval-interval") { Description = "With --text or --task: evaluate every N steps" };
        public readonly Option<int?> EvalIters = new("--eval-iters") { Description = "With --text: batches per loss estimate" };
        public readonly Option<int> MinLength = new("--min-length") { Description = "With --task: shortest source sequence", DefaultValueFactory = _ => 5 };
        public readonly Option<int> MaxLength = new("--max-length") { Description = "With --task: longest source sequence", DefaultValueFactory = _ => 20 };
        public readonly Option<int?> EvalPerLength = new("--eval-per-length") { Description = "With --task: held-out sequences per source length" };
        public readonly Option<int?> Average = new("--average") { Description = "With --task: end on the mean of the parameters at the last N snapshots (the paper's checkpoint averaging; 0: off)" };
        public readonly Option<int> Patience = new("--patience") { Description = "Stop after N evaluations in a row without a lower validation loss (0: never)", DefaultValueFactory = _ => 0 };
        public readonly Option<string?> Checkpoint = new("--checkpoint") { Description = "Save a checkpoint here (atomically) at every evaluation or epoch" };
        public readonly Option<string?> Resume = new("--resume") { Description = "Continue from this checkpoint" };
        public readonly Option<string?> From = new("--from") { Description = "With --text: fine-tune from this checkpoint's weights (its tokenizer, preset and --set values too), from step 0" };
        public readonly Option<string?> Lora = LoraFlag.Create();
        public readonly Option<string?> Log = new("--log") { Description = "Write metrics here as JSON lines: one object per step (step, loss, lr, examples or tokens per second) and one per evaluation" };
        public readonly Option<int> Seed = CommonOptions.Seed();
        public readonly Option<string?> Preset = CommonOptions.Preset();
        public readonly Option<string[]> Set = CommonOptions.Set();
        public readonly Option<bool> Json = CommonOptions.Json();
        public readonly Option<string> Backend = CommonOptions.Backend();
        public readonly Option<int> Verbose = CommonOptions.Verbose();
        public readonly Option<bool> NoFusion = CommonOptions.NoFusion();
        public readonly Option<string?> Distributed = new("--distributed") { Description = "auto (MPI when started by mpirun or srun) | mpi | none: data-parallel training, one rank per process" };
        public readonly Option<int> Zero = new("--zero") { Description = "Distributed: 1 shards the optimizer state over the ranks (ZeRO stage 1; the checkpoint is the same file); 0: off", DefaultValueFactory = _ => 0 };
        public readonly Option<double> CollectiveTimeout = new("--collective-timeout") { Description = "Distributed: seconds a rank waits in one collective before ending the run (must cover rank 0's evaluations and checkpoints)", DefaultValueFactory = _ => 300 };

        public Command Command() => new("train", "Train a model")
        {
            Model, Data, Text, ExtraText, Task, Tokenizer, Epochs, Steps, Batch, Lr, MinLr, Warmup, EvalInterval, EvalIters, MinLength, MaxLength, EvalPerLength, Average,
            Patience, Seed, Preset, Set, Checkpoint, Resume, From, Lora, Log, Json, Backend, Verbose, NoFusion, Distributed, Zero, CollectiveTimeout,
        };
    }

    public static Command Create()
    {
        var f = new Flags();
        var command = f.Command();
        command.SetAction(r =>
        {
            var sources = new[] { r.GetValue(f.Data), r.GetValue(f.Text), r.GetValue(f.Task) }.Count(v => v is not null);
            if (sources != 1) throw new UsageException("train needs exactly one of --data, --text or --task");
            if (r.GetValue(f.Patience) < 0) throw new UsageException($"--patience {r.GetValue(f.Patience)}: must be 0 (off) or positive");
            using var distributed = DistributedRun.Open(r.GetValue(f.Distributed), TimeSpan.FromSeconds(r.GetValue(f.CollectiveTimeout)), r.GetValue(f.Zero));
            try
            {
                return Train(f, r, distributed);
            }
            catch (Exception e) when (distributed.IsMultiRank)
            {
                return distributed.Fail(e, r.GetValue(f.Verbose));
            }
        });
        return command;
    }

    private static int Train(Flags f, ParseResult r, DistributedRun distributed)
    {
        bool asJson = r.GetValue(f.Json);
        var progress = distributed.IsRoot ? ConsoleProgress.Create(asJson) : new PlainProgress(TextWriter.Null);
        var plan = Plan(f, r, progress) with { Parallel = distributed.Parallel };
        using var log = distributed.IsRoot && r.GetValue(f.Log) is { } path ? new JsonlMetricsObserver(path) : null;
        ITrainingObserver[] observers = log is null ? [progress] : [progress, log];
        var result = progress.Show(() => Trainer.Run(plan, BackendCatalog.Create(r.GetValue(f.Backend)!), observers));
        if (!distributed.IsRoot) return ExitCodes.Ok;

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
    }

    /// <summary>The run the flags describe: a language model (--text), a sequence task (--task) or a classifier (--data).</summary>
    private static TrainingPlan Plan(Flags f, ParseResult r, ConsoleProgress progress)
    {
        var common = new ClassifierSettings
        {
            ModelPath = r.GetValue(f.Model)!, Data = r.GetValue(f.Data) ?? "", Epochs = r.GetValue(f.Epochs), Batch = r.GetValue(f.Batch), LearningRate = r.GetValue(f.Lr),
            Seed = r.GetValue(f.Seed), Preset = r.GetValue(f.Preset), Overrides = CommonOptions.ParseOverrides(r.GetValue(f.Set)),
            CheckpointPath = r.GetValue(f.Checkpoint), ResumePath = r.GetValue(f.Resume), Patience = r.GetValue(f.Patience), Verbose = r.GetValue(f.Verbose),
            Compile = new CompileOptions { Fusion = !r.GetValue(f.NoFusion) },
        };
        var lora = LoraFlag.Read(r, f.Lora);
        if ((lora is not null || r.GetValue(f.From) is not null) && r.GetValue(f.Text) is null)
            throw new UsageException($"{(lora is not null ? "--lora" : "--from")} is for language models: use it with --text");
        if (r.GetValue(f.ExtraText) is not null && r.GetValue(f.Text) != SyntheticCorpus.Name)
            throw new UsageException("--extra-text adds to the generated corpus: it needs --text synthetic");
        if (r.GetValue(f.Text) is { } textPath)
        {
            var (text, tokenizer) = textPath == SyntheticCorpus.Name ? Synthetic(r.GetValue(f.Tokenizer)!, r.GetValue(f.ExtraText), common.Seed, progress) : (null, null);
            var (plan, description) = LanguageModelRun.Plan(new LanguageModelSettings
            {
                ModelPath = common.ModelPath, TextPath = textPath, Text = text, TokenizerInstance = tokenizer, Tokenizer = r.GetValue(f.Tokenizer)!,
                Steps = r.GetValue(f.Steps), Batch = common.Batch, LearningRate = common.LearningRate, MinLearningRate = r.GetValue(f.MinLr),
                Warmup = r.GetValue(f.Warmup), EvalInterval = r.GetValue(f.EvalInterval), EvalIters = r.GetValue(f.EvalIters),
                Seed = common.Seed, Preset = common.Preset, Overrides = common.Overrides, CheckpointPath = common.CheckpointPath, ResumePath = common.ResumePath,
                Patience = common.Patience, Verbose = common.Verbose, Compile = common.Compile, FromPath = r.GetValue(f.From), Lora = lora,
            });
            progress.Line(description);
            return plan;
        }
        if (r.GetValue(f.Task) is { } taskName)
            return Seq2SeqRun.Plan(new Seq2SeqSettings
            {
                ModelPath = common.ModelPath, Task = taskName, Steps = r.GetValue(f.Steps), Batch = common.Batch,
                LearningRate = common.LearningRate, Warmup = r.GetValue(f.Warmup), MinLength = r.GetValue(f.MinLength), MaxLength = r.GetValue(f.MaxLength),
                EvalEvery = r.GetValue(f.EvalInterval), EvalPerLength = r.GetValue(f.EvalPerLength) ?? HeldOutSet.DefaultPerLength, Average = r.GetValue(f.Average),
                Seed = common.Seed, Preset = common.Preset, Overrides = common.Overrides, CheckpointPath = common.CheckpointPath, ResumePath = common.ResumePath,
                Patience = common.Patience, Verbose = common.Verbose, Compile = common.Compile,
            });
        return ClassifierRun.Plan(common);
    }

    /// <summary>The chat tasks' base corpus (seeded by --seed) and its character tokenizer with the chat markers.</summary>
    private static (string Text, ITokenizer Tokenizer) Synthetic(string tokenizerSpec, string? extraPath, int seed, ConsoleProgress progress)
    {
        var clock = System.Diagnostics.Stopwatch.StartNew();
        string? extra = extraPath is null ? null : TextCorpus.Read(extraPath);
        string text = SyntheticCorpus.Generate(() => WordList.Load(), seed, extraText: extra);
        var tokenizer = SyntheticCorpus.Tokenizer(tokenizerSpec, text);
        progress.Line($"synthetic corpus: {text.Length:N0} characters of the chat tasks' training problems in prose{(extraPath is null ? "" : $" and {extraPath}")} ({clock.Elapsed.TotalSeconds:F1} s)");
        return (text, tokenizer);
    }
}
