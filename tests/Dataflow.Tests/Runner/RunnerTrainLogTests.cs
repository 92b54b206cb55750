using System.Text.Json;
using Dataflow.Graph.Checkpoints;
using Dataflow.Tests.LanguageModels;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary>`train --log`, and a run that diverges or a checkpoint that holds NaN: exit 1 with a message that names the step, never a stack trace.</summary>
public sealed class RunnerTrainLogTests
{
    private static string[] TinyLanguageModel(TempDirectory dir, int steps, string lr = "1e-2") =>
    [
        "train", TinyGpt.ModelPath, "--text", dir.File("text.txt"), "--steps", $"{steps}", "--batch", "4", "--eval-interval", $"{steps}", "--eval-iters", "2",
        "--set", "layers=1", "--set", "heads=2", "--set", "d=16", "--set", "ctx=8", "--set", "dropout=0", "--lr", lr, "--checkpoint", dir.File("lm.ckpt"),
    ];

    [Fact]
    public void Train_log_writes_one_json_object_per_step_and_per_evaluation()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("text.txt"), TinyGpt.RepetitiveText(2000));
        var run = RunnerProcess.Run([.. TinyLanguageModel(dir, 6), "--log", dir.File("run.jsonl")]);
        Assert.True(run.ExitCode == 0, run.ToString());

        var lines = File.ReadAllLines(dir.File("run.jsonl")).Select(l => JsonDocument.Parse(l).RootElement).ToList();
        var steps = lines.Where(l => l.GetProperty("event").GetString() == "step").ToList();
        Assert.Equal([1, 2, 3, 4, 5, 6], steps.Select(s => s.GetProperty("step").GetInt32()));
        Assert.All(steps, s =>
        {
            Assert.True(s.GetProperty("loss").GetDouble() > 0);
            Assert.True(s.GetProperty("lr").GetDouble() > 0);
            Assert.Equal(4 * 8, s.GetProperty("tokens").GetInt32());
            Assert.True(s.GetProperty("tokens_per_second").GetDouble() > 0);
        });
        // A fresh language model is evaluated at step 0 and at the end.
        var evaluations = lines.Where(l => l.GetProperty("event").GetString() == "eval").ToList();
        Assert.Equal([0, 6], evaluations.Select(e => e.GetProperty("step").GetInt32()));
        Assert.All(evaluations, e => Assert.True(e.GetProperty("val_loss").GetDouble() > 0 && e.GetProperty("train_loss").GetDouble() > 0));
    }

    [Fact]
    public void A_learning_rate_that_blows_up_exits_1_naming_the_step_and_keeps_the_good_checkpoint()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("text.txt"), TinyGpt.RepetitiveText(2000));
        Assert.Equal(0, RunnerProcess.Run(TinyLanguageModel(dir, 4)).ExitCode);
        var good = File.ReadAllBytes(dir.File("lm.ckpt"));

        var run = RunnerProcess.Run(TinyLanguageModel(dir, 8, lr: "1e30"));

        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Matches(@"dataflow: step \d+: the (validation )?loss became (NaN|-?Infinity)( \(.*\))?; no checkpoint was written", run.Stderr);
        Assert.DoesNotContain("   at ", run.Stderr);
        Assert.Equal(good, File.ReadAllBytes(dir.File("lm.ckpt")));
    }

    [Fact]
    public void A_diverged_step_names_the_first_kernel_that_overflowed()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("text.txt"), TinyGpt.RepetitiveText(2000));
        var run = RunnerProcess.Run(TinyLanguageModel(dir, 8, lr: "1e30"));
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Matches(@"step \d+: the loss became (NaN|-?Infinity) \(kernel k\d+ \(.+\) produced (NaN|[+-]inf) from finite inputs", run.Stderr);
        Assert.False(File.Exists(dir.File("lm.ckpt")), "a run that diverged before its first evaluation wrote a checkpoint");
    }

    [Fact]
    public void Generating_from_weights_whose_logits_overflow_exits_1_instead_of_printing_garbage()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("text.txt"), TinyGpt.RepetitiveText(2000));
        Assert.Equal(0, RunnerProcess.Run(TinyLanguageModel(dir, 2)).ExitCode);
        // Weights that are finite, so the checkpoint loads, but so large that the logits overflow.
        var checkpoint = CheckpointReader.Load(dir.File("lm.ckpt"));
        var poisoned = new Checkpoint
        {
            Header = checkpoint.Header,
            Tensors = checkpoint.Tensors.Select(t => NamedTensor.FromFloats(t.Name, t.Shape, t.AsFloats().Select(v => v * 3e37f).ToArray())).ToList(),
            OptimizerState = checkpoint.OptimizerState,
            RngState = checkpoint.RngState,
            TokenizerJson = checkpoint.TokenizerJson,
        };
        CheckpointWriter.Save(dir.File("nan.ckpt"), poisoned);

        foreach (var temperature in new[] { "0", "0.8" })
        {
            var run = RunnerProcess.Run("generate", "--checkpoint", dir.File("nan.ckpt"), "--prompt", "the", "--max-tokens", "5", "--temperature", temperature);
            Assert.True(run.ExitCode == 1, run.ToString());
            Assert.Contains("logits are not finite", run.Stderr);
            Assert.Equal("the", run.Stdout.TrimEnd());    // the prompt, then nothing
        }
    }
}
