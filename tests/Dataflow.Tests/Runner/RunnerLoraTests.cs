using Dataflow.Engine.Sessions;
using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Lora;
using Dataflow.Tests.LanguageModels;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary><c>lora merge</c>/<c>unmerge</c> and the <c>--lora</c> flag as a user meets them: exit codes and messages.</summary>
public sealed class RunnerLoraTests
{
    private static readonly LoraConfig Config = new(2, 4, ["qkv", "fc"]);

    /// <summary>Two base checkpoints of the tiny GPT (different seeds) and an adapter trained, as far as its file says, on the first.</summary>
    private static void WriteFiles(TempDirectory dir)
    {
        var baseGraph = TinyGpt.Load().Graph;
        var loraGraph = ModelLoader.Load(TinyGpt.ModelPath, new ModelOptions(null, TinyGpt.Overrides, Training: false) { Lora = Config }).Graph;
        foreach (var (name, seed) in new[] { ("base.ckpt", 1), ("other.ckpt", 2) })
        {
            using var session = TinyGpt.NewSession(seed);
            session.DeclareParameters(baseGraph);
            SessionCheckpoint.Save(session, baseGraph, dir.File(name), new Dictionary<string, string>(), []);
            if (seed != 1) continue;
            session.DeclareParameters(loraGraph);
            foreach (var p in loraGraph.TrainableParameters)
                session.Parameters.Write(session.Parameters.Get(p.Name).Value, TestGraphs.RandomValues(seed, p.Node.Shape.ElementCount(), -0.1, 0.1));
            SessionAdapter.Save(session, loraGraph, Config, dir.File("base.ckpt"), dir.File("adapter.ckpt"));
        }
    }

    private static void AssertUserError(RunnerProcess.Result result, params string[] expected)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        foreach (var text in expected) Assert.Contains(text, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
    }

    [Fact]
    public void MergeWritesAPlainCheckpointAndUnmergeGivesTheBaseBack()
    {
        using var dir = new TempDirectory();
        WriteFiles(dir);
        var merge = RunnerProcess.Run("lora", "merge", "--base", dir.File("base.ckpt"), "--adapter", dir.File("adapter.ckpt"), "--checkpoint", dir.File("merged.ckpt"));
        Assert.True(merge.ExitCode == 0, merge.ToString());
        Assert.Contains("merged 4 adapters (rank=2,alpha=4,targets=qkv,fc)", merge.Stdout);
        var unmerge = RunnerProcess.Run("lora", "unmerge", "--merged", dir.File("merged.ckpt"), "--adapter", dir.File("adapter.ckpt"), "--checkpoint", dir.File("back.ckpt"));
        Assert.True(unmerge.ExitCode == 0, unmerge.ToString());

        var original = CheckpointReader.Load(dir.File("base.ckpt")).Tensors.ToDictionary(t => t.Name);
        var merged = CheckpointReader.Load(dir.File("merged.ckpt"));
        Assert.Equal(original.Keys.Order(), merged.Tensors.Select(t => t.Name).Order());    // a plain checkpoint: the base's tensors, no adapters
        Assert.NotEqual(original["decoder.0.attention.qkv.weight"].AsFloats(), merged.Tensors.First(t => t.Name == "decoder.0.attention.qkv.weight").AsFloats());
        foreach (var t in CheckpointReader.Load(dir.File("back.ckpt")).Tensors)
            Assert.True(t.AsFloats().Zip(original[t.Name].AsFloats()).All(p => Math.Abs(p.First - p.Second) <= 1e-6), t.Name);
    }

    [Fact]
    public void AnAdapterForAnotherBaseIsExitOneNamingBothFiles()
    {
        using var dir = new TempDirectory();
        WriteFiles(dir);
        AssertUserError(RunnerProcess.Run("lora", "merge", "--base", dir.File("other.ckpt"), "--adapter", dir.File("adapter.ckpt"), "--checkpoint", dir.File("m.ckpt")),
            dir.File("adapter.ckpt"), dir.File("other.ckpt"), "trained on the base " + dir.File("base.ckpt"));
        AssertUserError(RunnerProcess.Run("lora", "merge", "--base", dir.File("base.ckpt"), "--adapter", dir.File("other.ckpt"), "--checkpoint", dir.File("m.ckpt")),
            dir.File("other.ckpt") + ": not a LoRA adapter");
        Assert.False(File.Exists(dir.File("m.ckpt")));
    }

    [Fact]
    public void ABadLoraFlagIsExitOneNamingTheFlag()
    {
        using var dir = new TempDirectory();
        File.WriteAllText(dir.File("t.txt"), TinyGpt.RepetitiveText(500));
        var model = RunnerProcess.Model("gpt.dfg");
        AssertUserError(RunnerProcess.Run("train", model, "--text", dir.File("t.txt"), "--lora", "rank=0", "--from", dir.File("b.ckpt")), "--lora rank=0: rank '0': must be a whole number, 1 or more");
        AssertUserError(RunnerProcess.Run("train", model, "--text", dir.File("t.txt"), "--lora", "targets=qkv,qvk"), "--lora targets=qkv,qvk: 'qvk' is not a LoRA target");
        AssertUserError(RunnerProcess.Run("train", model, "--text", dir.File("t.txt"), "--lora"), "--lora trains adapters on a base model: give its checkpoint with --from");
        AssertUserError(RunnerProcess.Run("train", model, "--task", "reverse", "--lora"), "--lora is for language models: use it with --text");
    }
}
