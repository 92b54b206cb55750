using Dataflow.Backends.Cpu;
using Dataflow.Engine;
using Dataflow.Engine.Data;
using Dataflow.Engine.Tokenizers;
using Dataflow.Generation;
using Dataflow.Graph.Checkpoints;
using Dataflow.Tests.Support;
using Dataflow.Tests.Training;
using Dataflow.Training;

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
            Result = Train(Settings(Directory, steps: 100, checkpoint: Checkpoint), Log);
        }

        public TempDirectory Directory { get; } = new();
        public RecordingObserver Log { get; } = new();
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
        Overrides = new Dictionary<string, string> { ["layers"] = "2", ["heads"] = "2", ["d"] = "32", ["ctx"] = "16", ["dropout"] = "0" },
        CheckpointPath = checkpoint,
        ResumePath = resume,
    };

    private static TrainResult Train(LanguageModelSettings settings, ITrainingObserver? observer = null) =>
        Trainer.Run(LanguageModelRun.Plan(settings).Plan, new CpuBackend(), observer ?? new RecordingObserver());

    /// <summary>What <c>generate</c> prints, from the checkpoint alone; or the exception that stopped it.</summary>
    private static (Exception? Error, string Output) Generate(string checkpoint, string prompt, int maxTokens = 200, double temperature = 0.8, int topK = 0, double topP = 1, int seed = 1)
    {
        var output = new StringWriter();
        var settings = new GenerationSettings { CheckpointPath = checkpoint, Prompt = prompt, MaxTokens = maxTokens, Sampling = new SamplingOptions(temperature, topK, topP), Seed = seed };
        try { TextGenerator.Run(settings, new CpuBackend(), output); return (null, output.ToString()); }
        catch (Exception e) when (e is ConfigurationException or CheckpointException or TokenizerException or NonFiniteLogitsException) { return (e, e.Message); }
    }

    [Fact]
    public void A_hundred_steps_drive_the_loss_well_down_and_report_it_like_nanogpt()
    {
        var log = _trained.Log.Log;
        Assert.Equal([0L, 50, 100], _trained.Log.Evaluations.Select(e => e.Step));
        Assert.All(_trained.Log.Evaluations, e => Assert.False(double.IsNaN(e.TrainLoss)));    // the estimate, from step 0 on
        // ln(15 characters) ≈ 2.7 at the start; the verses are nearly deterministic after a few characters.
        Assert.True(_trained.Result.ValidationLoss < 0.6, $"val loss {_trained.Result.ValidationLoss}\n{log}");
        Assert.True(_trained.Result.FinalLoss < 0.6, $"train loss {_trained.Result.FinalLoss}");
        Assert.Equal(100, _trained.Result.Steps);
        Assert.True(double.IsNaN(_trained.Result.ValidationAccuracy));
    }

    [Fact]
    public void The_reported_validation_loss_is_the_whole_split_and_eval_text_gives_it_again()
    {
        Assert.Contains("validation loss over the whole split:", _trained.Log.Log);
        var metrics = LanguageModelEvaluator.EvaluateCheckpoint(TinyGpt.ModelPath, _trained.Checkpoint, _trained.Directory.File("text.txt"), new CpuBackend());
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
        var inference = Dataflow.Engine.Sessions.StepGraph.ForwardOnly(model.Graph);
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
        var first = Generate(_trained.Checkpoint, "the cat", maxTokens: 40, temperature: 0);
        var second = Generate(_trained.Checkpoint, "the cat", maxTokens: 40, temperature: 0);
        Assert.Null(first.Error);
        Assert.Equal(first.Output, second.Output);
        Assert.StartsWith("the cat sat on the mat.\nthe dog sat on the log.", first.Output);
    }

    [Fact]
    public void The_same_seed_gives_the_same_text_past_the_context()
    {
        var a = Generate(_trained.Checkpoint, "the", maxTokens: 60, temperature: 1, topK: 5, topP: 0.9, seed: 5);
        var b = Generate(_trained.Checkpoint, "the", maxTokens: 60, temperature: 1, topK: 5, topP: 0.9, seed: 5);
        Assert.Null(a.Error);
        Assert.Equal(a.Output, b.Output);
        Assert.Equal("the".Length + 60 + Environment.NewLine.Length, a.Output.Length);    // 60 > context 16: the window slid
    }

    [Fact]
    public void Generation_errors_are_domain_errors_that_name_the_problem()
    {
        var longPrompt = Generate(_trained.Checkpoint, TinyGpt.RepetitiveText(17));
        Assert.IsType<ConfigurationException>(longPrompt.Error);
        Assert.Contains("17 tokens", longPrompt.Output);
        Assert.Contains("context is 16 tokens", longPrompt.Output);

        var empty = Generate(_trained.Checkpoint, "");
        Assert.IsType<ConfigurationException>(empty.Error);
        Assert.Contains("<|endoftext|>", empty.Output);

        foreach (var p in new[] { 0, 1.5 })
        {
            var topP = Generate(_trained.Checkpoint, "the", topP: p);
            Assert.IsType<ConfigurationException>(topP.Error);
            Assert.Contains("--top-p", topP.Output);
        }
        Assert.IsType<CheckpointException>(Generate(_trained.Directory.File("missing.ckpt"), "the").Error);
        Assert.IsType<TokenizerException>(Generate(_trained.Checkpoint, "XYZ").Error);    // not in the vocabulary
    }

    [Fact]
    public void A_missing_text_file_is_a_clear_input_error()
    {
        using var dir = new TempDirectory();
        var e = Assert.Throws<DataException>(() => Train(Settings(dir, steps: 1)));
        Assert.Contains("text.txt", e.Message);
        Assert.Contains("no such file", e.Message);
    }

    [Fact]
    public void Resuming_ends_exactly_where_a_straight_run_does()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("text.txt"), TinyGpt.RepetitiveText(3000));
        var straight = Train(Settings(dir, steps: 40) with { EvalInterval = 20 });
        // The same run, killed just after its checkpoint at step 20 (the schedule's horizon is --steps, so it must be the same run).
        Assert.Throws<OperationCanceledException>(() =>
            Train(Settings(dir, steps: 40, checkpoint: dir.File("half.ckpt")) with { EvalInterval = 20 }, new RecordingObserver { KillAfterEvaluationAt = 20 }));
        Assert.Equal(20, CheckpointReader.ReadHeader(dir.File("half.ckpt")).Step);
        var resumed = Train(Settings(dir, steps: 40, resume: dir.File("half.ckpt")) with { EvalInterval = 20 });
        Assert.Equal(40, resumed.Steps);
        Assert.Equal(straight.FinalLoss, resumed.FinalLoss, 5);
        Assert.Equal(straight.ValidationLoss, resumed.ValidationLoss, 5);
    }
}
