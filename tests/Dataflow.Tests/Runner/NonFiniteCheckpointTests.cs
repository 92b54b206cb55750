using Dataflow.Graph.Checkpoints;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary>
/// A checkpoint that holds NaN is refused by every verb that would use it, naming the tensor, and
/// shown as it is by <c>inspect --allow-non-finite</c>.
/// </summary>
public sealed class NonFiniteCheckpointTests
{
    [Fact]
    public void EvalAndGenerateRefuseItAndInspectShowsItOnlyWhenAllowed()
    {
        using var dir = new TempDirectory();
        var text = dir.File("tiny.txt");
        File.WriteAllText(text, string.Concat(Enumerable.Repeat("Before we proceed any further, hear me speak.\n", 20)));
        var good = dir.File("good.ckpt");
        var trained = RunnerProcess.Run("train", RunnerProcess.Model("gpt.dfg"), "--text", text, "--set", "layers=1", "--set", "d=16", "--set", "heads=2",
            "--set", "ctx=8", "--batch", "2", "--steps", "1", "--checkpoint", good);
        Assert.True(trained.ExitCode == 0, trained.ToString());

        // The same checkpoint with one weight made NaN, written through the library's own writer.
        var checkpoint = CheckpointReader.Load(good);
        var first = checkpoint.Tensors[0];
        BitConverter.TryWriteBytes(first.Data.AsSpan(3 * sizeof(float)), float.NaN);
        var broken = dir.File("broken.ckpt");
        CheckpointWriter.Save(broken, checkpoint);

        foreach (var args in new[] { new[] { "eval", RunnerProcess.Model("gpt.dfg"), "--checkpoint", broken, "--text", text }, ["generate", "--checkpoint", broken, "--max-tokens", "2"], ["inspect", broken] })
        {
            var refused = RunnerProcess.Run(args);
            Assert.True(refused.ExitCode == 1, refused.ToString());
            Assert.Contains($"'{first.Name}' holds NaN at index 3", refused.Stderr);
        }
        var shown = RunnerProcess.Run("inspect", broken, "--allow-non-finite");
        Assert.True(shown.ExitCode == 0, shown.ToString());
        Assert.Contains(first.Name, shown.Stdout);
    }
}
