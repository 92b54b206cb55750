using System.CommandLine;
using Dataflow.Engine.Data;
using Dataflow.Graph.Checkpoints;
using Dataflow.Runner.Cli;
using Dataflow.Runner.Commands;
using Dataflow.Runner.Training;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.LanguageModels;

/// <summary>Train a tiny char-level GPT on a generated repetitive text, then generate from the checkpoint alone.</summary>
public sealed class LanguageModelTrainingTests : IClassFixture<LanguageModelTrainingTests.Trained>
{
    /// <summary>One 100-step run shared by the tests that only read its checkpoint.</summary>
    public sealed class Trained : IDisposable
    {
        public Trained()
        {
            File.WriteAllText(Directory.File("text.txt"), TinyGpt.RepetitiveText(6000));
            Result = LanguageModelTrainer.Run(Settings(Directory, steps: 100, checkpoint: Checkpoint), new PlainProgress(Log));
        }

        public TempDirectory Directory { get; } = new();
        public StringWriter Log { get; } = new();
        public string Checkpoint => Directory.File("lm.ckpt");
        public TrainResult Result { get; }

        public void Dispose() => Directory.Dispose();
    }

    private readonly Trained _trained;

    public LanguageModelTrainingTests(Trained trained) => _trained = trained;

    private static LanguageModelSettings Settings(TempDirectory dir, int steps, string? checkpoint = null, string? resume = null) => new()
    {
        ModelPath = TinyGpt.ModelPath,
        TextPath = dir.File("text.txt"),
        Tokenizer = "char",
        Steps = steps,
        Batch = 8,
        LearningRate = 1e-2,
        MinLearningRate = 1e-3,
        Warmup = 10,
        EvalInterval = 50,
        EvalIters = 4,
        Overrides = ["layers=2", "heads=2", "d=32", "ctx=16", "dropout=0"],
        CheckpointPath = checkpoint,
        ResumePath = resume,
    };

    private static (int Exit, string Output) Generate(params string[] args)
    {
        var root = new RootCommand("test") { GenerateCommand.Create() };
        var output = new StringWriter();
        var config = new InvocationConfiguration { Output = output, Error = new StringWriter(), EnableDefaultExceptionHandler = false };
        try { return (root.Parse(["generate", .. args]).Invoke(config), output.ToString()); }
        catch (Exception e) { return (ErrorReporter.Report(e, 0), e.Message); }
    }

    [Fact]
    public void A_hundred_steps_drive_the_loss_well_down_and_report_it_like_nanogpt()
    {
        var log = _trained.Log.ToString();
        Assert.Contains("step 0: train loss", log);
        Assert.Contains("step 100: train loss", log);
        // ln(15 characters) ≈ 2.7 at the start; the verses are nearly deterministic after a few characters.
        Assert.True(_trained.Result.ValidationLoss < 0.6, $"val loss {_trained.Result.ValidationLoss}\n{log}");
        Assert.True(_trained.Result.FinalLoss < 0.6, $"train loss {_trained.Result.FinalLoss}");
        Assert.Equal(100, _trained.Result.Steps);
        Assert.True(double.IsNaN(_trained.Result.ValidationAccuracy));
    }

    [Fact]
    public void The_reported_validation_loss_is_the_whole_split_and_eval_text_gives_it_again()
    {
        Assert.Contains("validation loss over the whole split:", _trained.Log.ToString());
        var metrics = LanguageModelEvaluator.Evaluate(TinyGpt.ModelPath, _trained.Checkpoint, _trained.Directory.File("text.txt"), "cpu", TextWriter.Null);
        // 6000 characters: the last 600 validate, 37 windows of 16 (3 runs of 8 windows, then 5 rows).
        Assert.Equal((37, 37L * 16), (metrics.Windows, metrics.Tokens));
        Assert.Equal(_trained.Result.ValidationLoss, metrics.Loss, 5);
    }

    [Fact]
    public void The_whole_split_loss_is_the_mean_over_windows_whatever_the_batch()
    {
        // Batches of 8 with a ragged last run, and windows one at a time, must weigh every window alike.
        var checkpoint = CheckpointReader.Load(_trained.Checkpoint);
        var config = LanguageModelConfig.FromCheckpoint(checkpoint.Header, _trained.Checkpoint);
        var model = config.Load(training: false);
        using var session = TinyGpt.NewSession();
        Dataflow.Engine.Sessions.SessionCheckpoint.Load(session, model.Graph, _trained.Checkpoint);
        var inference = Dataflow.Engine.Sessions.TrainingGraph.ForInference(model.Graph);
        var inputs = LanguageModelInputs.Of(model.Graph);
        var tokens = Enumerable.Range(0, 16 * 11 + 3).Select(i => (i * 7 + i / 5) % 15).ToArray();

        var batched = LanguageModelEvaluator.Evaluate(session, inference, inputs, tokens, 16, batch: 8);
        var single = LanguageModelEvaluator.Evaluate(session, inference, inputs, tokens, 16, batch: 1);

        Assert.Equal(11, batched.Windows);
        Assert.Equal(single.Loss, batched.Loss, 5);
        Assert.Throws<DataException>(() => LanguageModelEvaluator.Evaluate(session, inference, inputs, tokens[..16], 16, batch: 8));
    }

    [Fact]
    public void The_checkpoint_carries_the_tokenizer_and_the_model()
    {
        var checkpoint = CheckpointReader.Load(_trained.Checkpoint);
        Assert.Equal(100, checkpoint.Header.Step);
        Assert.NotNull(checkpoint.TokenizerJson);
        var config = LanguageModelConfig.FromCheckpoint(checkpoint.Header, _trained.Checkpoint);
        Assert.Equal(16, config.Context);
        Assert.Equal("15", config.Overrides["vocab"]);    // the text's distinct characters
        Assert.Contains("model gpt(", config.ModelSource);
    }

    [Fact]
    public void Greedy_generation_is_deterministic_and_continues_the_verse()
    {
        // Only the checkpoint: no model file, no text, no tokenizer spec.
        var first = Generate("--checkpoint", _trained.Checkpoint, "--prompt", "the cat", "--max-tokens", "40", "--temperature", "0");
        var second = Generate("--checkpoint", _trained.Checkpoint, "--prompt", "the cat", "--max-tokens", "40", "--temperature", "0");
        Assert.Equal(0, first.Exit);
        Assert.Equal(first.Output, second.Output);
        Assert.StartsWith("the cat sat on the mat.\nthe dog sat on the log.", first.Output);
    }

    [Fact]
    public void The_same_seed_gives_the_same_text_past_the_context()
    {
        string[] args = ["--checkpoint", _trained.Checkpoint, "--prompt", "the", "--max-tokens", "60", "--temperature", "1", "--top-k", "5", "--top-p", "0.9"];
        var a = Generate([.. args, "--seed", "5"]);
        var b = Generate([.. args, "--seed", "5"]);
        Assert.Equal(0, a.Exit);
        Assert.Equal(a.Output, b.Output);
        Assert.Equal("the".Length + 60 + Environment.NewLine.Length, a.Output.Length);    // 60 > context 16: the window slid
    }

    [Fact]
    public void Generation_errors_name_the_problem_and_exit_1()
    {
        var longPrompt = Generate("--checkpoint", _trained.Checkpoint, "--prompt", TinyGpt.RepetitiveText(17));
        Assert.Equal(ExitCodes.BadInput, longPrompt.Exit);
        Assert.Contains("17 tokens", longPrompt.Output);
        Assert.Contains("context is 16 tokens", longPrompt.Output);

        var empty = Generate("--checkpoint", _trained.Checkpoint, "--prompt", "");
        Assert.Equal(ExitCodes.BadInput, empty.Exit);
        Assert.Contains("<|endoftext|>", empty.Output);

        foreach (var p in new[] { "0", "1.5" })
        {
            var topP = Generate("--checkpoint", _trained.Checkpoint, "--prompt", "the", "--top-p", p);
            Assert.Equal(ExitCodes.BadInput, topP.Exit);
            Assert.Contains("--top-p", topP.Output);
        }
        Assert.Equal(ExitCodes.BadInput, Generate("--checkpoint", _trained.Directory.File("missing.ckpt"), "--prompt", "the").Exit);
        Assert.Equal(ExitCodes.BadInput, Generate("--checkpoint", _trained.Checkpoint, "--prompt", "XYZ").Exit);    // not in the vocabulary
    }

    [Fact]
    public void A_missing_text_file_is_a_clear_input_error()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DataException>(() => LanguageModelTrainer.Run(Settings(dir, steps: 1), new PlainProgress(new StringWriter())));
        Assert.Contains("text.txt", e.Message);
        Assert.Contains("no such file", e.Message);
        Assert.Equal(ExitCodes.BadInput, ErrorReporter.Report(e, 0));
    }

    [Fact]
    public void Resuming_ends_exactly_where_a_straight_run_does()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("text.txt"), TinyGpt.RepetitiveText(3000));
        var straight = LanguageModelTrainer.Run(Settings(dir, steps: 40) with { EvalInterval = 20 }, new PlainProgress(new StringWriter()));
        // The same run, killed just after its checkpoint at step 20 (the schedule's horizon is --steps, so it must be the same run).
        Assert.Throws<OperationCanceledException>(() =>
            LanguageModelTrainer.Run(Settings(dir, steps: 40, checkpoint: dir.File("half.ckpt")) with { EvalInterval = 20 }, new KilledAfter("step 20:")));
        Assert.Equal(20, CheckpointReader.ReadHeader(dir.File("half.ckpt")).Step);
        var resumed = LanguageModelTrainer.Run(Settings(dir, steps: 40, resume: dir.File("half.ckpt")) with { EvalInterval = 20 }, new PlainProgress(new StringWriter()));
        Assert.Equal(40, resumed.Steps);
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss, 5);
        Assert.Equal(straight.ValidationLoss, resumed.ValidationLoss, 5);
    }

    /// <summary>A progress sink that stops the run at the first update after a given line, like a kill.</summary>
    private sealed class KilledAfter(string line) : ProgressSink
    {
        private bool _seen;

        public override void Run(string title, long totalSteps, Action<ProgressSink> work) => work(this);

        public override void Update(long step, string status)
        {
            if (_seen) throw new OperationCanceledException("killed");
        }

        public override void Line(string text) => _seen |= text.StartsWith(line, StringComparison.Ordinal);
    }
}
