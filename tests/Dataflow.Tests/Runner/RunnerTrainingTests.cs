using System.Text.Json;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Runner;

/// <summary>The runner's verbs on the real Fashion-MNIST files (tools/setup installs them).</summary>
public sealed class RunnerTrainingTests
{
    private static JsonElement LastJson(RunnerProcess.Result result)
    {
        Assert.True(result.ExitCode == 0, result.ToString());
        var line = result.Stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        return JsonDocument.Parse(line).RootElement;
    }

    [Fact]
    public void InspectCountsTheParametersOfThe3Blue1BrownNetwork()
    {
        var json = LastJson(RunnerProcess.Run("inspect", RunnerProcess.Model("mlp-3b1b.dfg"), "--json"));
        Assert.Equal(13002, json.GetProperty("parameters").GetInt64());
        Assert.Equal("f32[B, 10]", json.GetProperty("layers").EnumerateArray().Last(l => l.GetProperty("name").GetString() == "logits").GetProperty("output").GetString());
    }

    [Fact]
    public void ResumingContinuesExactlyWhereAStraightRunGoes()
    {
        using var dir = new TempDirectory();
        var checkpoint = dir.File("run.ckpt");
        string[] common = ["train", RunnerProcess.Model("mlp.dfg"), "--data", "fashion-mnist", "--preset", "small", "--batch", "256", "--seed", "5", "--json"];

        var straight = LastJson(RunnerProcess.Run([.. common, "--epochs", "2"]));
        LastJson(RunnerProcess.Run([.. common, "--epochs", "1", "--checkpoint", checkpoint]));
        var resumed = LastJson(RunnerProcess.Run([.. common, "--epochs", "2", "--resume", checkpoint]));

        Assert.Equal(straight.GetProperty("steps").GetInt64(), resumed.GetProperty("steps").GetInt64());
        Assert.Equal(straight.GetProperty("final_loss").GetDouble(), resumed.GetProperty("final_loss").GetDouble());
        Assert.Equal(straight.GetProperty("val_loss").GetDouble(), resumed.GetProperty("val_loss").GetDouble());

        var inspected = LastJson(RunnerProcess.Run("inspect", checkpoint, "--json"));
        Assert.Equal("mlp", inspected.GetProperty("graph").GetString());
        Assert.Equal(straight.GetProperty("steps").GetInt64() / 2, inspected.GetProperty("step").GetInt64());

        var evaluated = LastJson(RunnerProcess.Run("eval", RunnerProcess.Model("mlp.dfg"), "--preset", "small", "--checkpoint", checkpoint, "--data", "fashion-mnist", "--json"));
        Assert.InRange(evaluated.GetProperty("accuracy").GetDouble(), 0.75, 1.0);
    }
}
