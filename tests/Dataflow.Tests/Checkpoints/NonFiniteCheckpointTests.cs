using Dataflow.Graph.Checkpoints;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Checkpoints;

/// <summary>A checkpoint whose values went NaN or ±∞ (a diverged run) is refused unless the caller allows it.</summary>
public sealed class NonFiniteCheckpointTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string Save(float[] weight, float[]? moment = null)
    {
        var checkpoint = SampleCheckpoints.Small();
        var path = _dir.File("run.ckpt");
        CheckpointWriter.Save(path, new Checkpoint
        {
            Header = checkpoint.Header,
            Tensors = [NamedTensor.FromFloats("l1.weight", [4, 3], weight), NamedTensor.FromFloats("l1.bias", [3], [0.1f, -0f, 2f])],
            OptimizerState = [NamedTensor.FromFloats("l1.weight/m", [4, 3], moment ?? new float[12]), NamedTensor.FromInts("t", [], [7])],
            RngState = checkpoint.RngState,
        });
        return path;
    }

    private static float[] Weights(int badIndex = -1, float bad = float.NaN)
    {
        var values = Enumerable.Range(0, 12).Select(i => i * 0.25f).ToArray();
        if (badIndex >= 0) values[badIndex] = bad;
        return values;
    }

    [Fact]
    public void AFiniteCheckpointLoads() =>
        Assert.Equal(Weights(), CheckpointReader.Load(Save(Weights())).Tensors[0].AsFloats());

    [Fact]
    public void NaNInAParameterIsRefusedNamingTheTensorAndTheFirstIndex()
    {
        var path = Save(Weights(badIndex: 7));
        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.Load(path));
        Assert.StartsWith($"{path}: parameter 'l1.weight' holds NaN at index 7 (of 12)", error.Message);
    }

    [Fact]
    public void InfinityInTheOptimizerStateIsRefused()
    {
        var moment = new float[12];
        moment[3] = float.NegativeInfinity;
        moment[5] = float.NaN;
        var path = Save(Weights(), moment);
        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.Load(path));
        Assert.StartsWith($"{path}: optimizer state 'l1.weight/m' holds -inf at index 3", error.Message);
    }

    [Fact]
    public void TheCallerMayAllowNonFiniteValues()
    {
        var path = Save(Weights(badIndex: 0, bad: float.PositiveInfinity));
        var loaded = CheckpointReader.Load(path, new CheckpointLoadOptions(AllowNonFinite: true));
        Assert.Equal(float.PositiveInfinity, loaded.Tensors[0].AsFloats()[0]);
    }
}
