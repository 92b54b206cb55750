using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary>
/// Every user mistake gets one clear message naming the place at fault, exit code 1, no stack
/// trace, and leaves existing files alone.
/// </summary>
public sealed class RunnerErrorTests
{
    private static void AssertUserError(RunnerProcess.Result result, params string[] expected)
    {
        Assert.True(result.ExitCode == 1, result.ToString());
        foreach (var text in expected) Assert.Contains(text, result.Stderr);
        Assert.DoesNotContain("   at ", result.Stderr);
        Assert.DoesNotContain("Exception", result.Stderr);
    }

    private static string WriteModel(TempDirectory dir, string text)
    {
        var path = dir.File("model.dfg");
        File.WriteAllText(path, text);
        return path;
    }

    [Fact]
    public void SyntaxErrorPointsAtTheLineAndColumn()
    {
        using var dir = new TempDirectory();
        var path = WriteModel(dir, "model m(h = 3)\ninput x : f32[B, 4]\ny = linear(x, h\noutput y\n");
        AssertUserError(RunnerProcess.Run("inspect", path), "model.dfg:3:11:", "never closed", "^");
    }

    [Fact]
    public void UnknownOpIsNamedWithASuggestion()
    {
        using var dir = new TempDirectory();
        var path = WriteModel(dir, "model m(h = 3)\ninput x : f32[B, 4]\ny = relux(linear(x, h))\noutput y\n");
        AssertUserError(RunnerProcess.Run("inspect", path), "model.dfg:3:5:", "'relux'", "'relu'");
    }

    [Fact]
    public void ShapeMismatchBetweenLayersNamesBothShapes()
    {
        using var dir = new TempDirectory();
        var path = WriteModel(dir, "model m(h = 3)\ninput x : f32[B, 4]\ninput z : f32[B, 5]\ny = linear(x, h) + z\noutput y\n");
        AssertUserError(RunnerProcess.Run("inspect", path), "model.dfg:4:18:", "[B, 3]", "[B, 5]");
    }

    [Fact]
    public void SetOfAnUnknownParameterListsTheKnownOnes()
    {
        AssertUserError(RunnerProcess.Run("inspect", RunnerProcess.Model("mlp.dfg"), "--set", "hiden=3"), "'hiden'", "hidden, classes, dropout");
    }

    [Fact]
    public void CheckpointOfAnotherModelNamesTheTensor()
    {
        using var dir = new TempDirectory();
        var checkpoint = dir.File("other.ckpt");
        SaveFreshCheckpoint("mlp-3b1b.dfg", checkpoint);
        AssertUserError(RunnerProcess.Run("eval", RunnerProcess.Model("mlp.dfg"), "--checkpoint", checkpoint, "--data", "fashion-mnist"),
            "other.ckpt", "mlp_3b1b");
    }

    [Fact]
    public void CheckpointWithOtherShapesNamesTheTensorAndBothShapes()
    {
        using var dir = new TempDirectory();
        var checkpoint = dir.File("wide.ckpt");
        SaveFreshCheckpoint("mlp.dfg", checkpoint, new Dictionary<string, string> { ["hidden"] = "64" });
        var result = RunnerProcess.Run("eval", RunnerProcess.Model("mlp.dfg"), "--checkpoint", checkpoint, "--data", "fashion-mnist");
        AssertUserError(result, "wide.ckpt", "[784, 64]", "[784, 512]");
    }

    [Fact]
    public void TruncatedAndCorruptedCheckpointsAreRefusedAndLeftAlone()
    {
        using var dir = new TempDirectory();
        var good = dir.File("good.ckpt");
        SaveFreshCheckpoint("mlp-3b1b.dfg", good);
        var bytes = File.ReadAllBytes(good);

        var truncated = dir.File("truncated.ckpt");
        File.WriteAllBytes(truncated, bytes[..(bytes.Length / 2)]);
        AssertUserError(RunnerProcess.Run("eval", RunnerProcess.Model("mlp-3b1b.dfg"), "--checkpoint", truncated, "--data", "fashion-mnist"), "truncated.ckpt", "truncated");

        var flipped = dir.File("flipped.ckpt");
        var copy = (byte[])bytes.Clone();
        copy[copy.Length / 3] ^= 0x10;
        File.WriteAllBytes(flipped, copy);
        AssertUserError(RunnerProcess.Run("eval", RunnerProcess.Model("mlp-3b1b.dfg"), "--checkpoint", flipped, "--data", "fashion-mnist"), "flipped.ckpt", "corrupted");

        // Resuming from the bad file must not touch the checkpoint the run would write.
        AssertUserError(RunnerProcess.Run("train", RunnerProcess.Model("mlp-3b1b.dfg"), "--data", "fashion-mnist", "--resume", truncated, "--checkpoint", good), "truncated");
        Assert.Equal(bytes, File.ReadAllBytes(good));
    }

    [Fact]
    public void MissingDataFileIsNamed()
    {
        using var dir = new TempDirectory();
        var result = RunnerProcess.RunWith(new Dictionary<string, string> { ["DATAFLOW_FASHION_MNIST"] = dir.Path },
            "train", RunnerProcess.Model("mlp-3b1b.dfg"), "--data", "fashion-mnist", "--epochs", "1");
        AssertUserError(result, dir.Path, "train-images-idx3-ubyte");
    }

    [Fact]
    public void UnknownDatasetAndBadFlagsAreUsageErrors()
    {
        AssertUserError(RunnerProcess.Run("train", RunnerProcess.Model("mlp-3b1b.dfg"), "--data", "cifar"), "cifar");
        AssertUserError(RunnerProcess.Run("train", RunnerProcess.Model("mlp-3b1b.dfg"), "--data", "fashion-mnist", "--epochs", "zero"), "zero");
    }

    [Fact]
    public void EvalTextNeedsALanguageModelCheckpointAndTakesItsSettingsFromIt()
    {
        using var dir = new TempDirectory();
        var checkpoint = dir.File("mlp.ckpt");
        SaveFreshCheckpoint("mlp-3b1b.dfg", checkpoint);
        var text = dir.File("text.txt");
        File.WriteAllText(text, "to be or not to be, that is the question");
        AssertUserError(RunnerProcess.Run("eval", RunnerProcess.Model("gpt.dfg"), "--checkpoint", checkpoint, "--text", text), "mlp.ckpt", "not a language-model checkpoint");
        AssertUserError(RunnerProcess.Run("eval", RunnerProcess.Model("gpt.dfg"), "--checkpoint", checkpoint, "--text", text, "--preset", "gpt2"), "drop --preset");
        AssertUserError(RunnerProcess.Run("eval", RunnerProcess.Model("gpt.dfg"), "--checkpoint", checkpoint, "--text", text, "--data", "fashion-mnist"), "not both");
    }

    private static void SaveFreshCheckpoint(string model, string path, IReadOnlyDictionary<string, string>? overrides = null)
    {
        var loaded = ModelLoader.Load(RunnerProcess.Model(model), new ModelOptions(null, overrides, Training: false));
        using var session = new Session(new Backends.Cpu.CpuBackend(), seed: 1);
        session.DeclareParameters(loaded.Graph);
        SessionCheckpoint.Save(session, loaded.Graph, path, new Dictionary<string, string>(), []);
    }
}
