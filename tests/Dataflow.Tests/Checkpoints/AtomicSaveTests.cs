using System.Collections;
using Dataflow.Graph.Checkpoints;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Checkpoints;

/// <summary>A save that fails midway must leave the previous checkpoint exactly as it was and no temp file.</summary>
public sealed class AtomicSaveTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    /// <summary>Yields its first tensor, then fails, as a device copy might while the file is half written.</summary>
    private sealed class FailingList(NamedTensor first) : IReadOnlyList<NamedTensor>
    {
        public int Count => 2;
        public NamedTensor this[int index] => index == 0 ? first : throw new InvalidOperationException("device lost");
        public IEnumerator<NamedTensor> GetEnumerator()
        {
            yield return first;
            throw new InvalidOperationException("device lost");
        }
        IEnumerator IEnumerable.GetEnumerator() => GetEnumerator();
    }

    private (string Path, byte[] Before) SaveOld()
    {
        string path = _dir.File("model.ckpt");
        CheckpointWriter.Save(path, SampleCheckpoints.Small(step: 1));
        return (path, File.ReadAllBytes(path));
    }

    private static Checkpoint WithTensors(IReadOnlyList<NamedTensor> tensors)
    {
        var small = SampleCheckpoints.Small(step: 2);
        return new Checkpoint { Header = small.Header, Tensors = tensors, OptimizerState = small.OptimizerState, RngState = small.RngState };
    }

    [Fact]
    public void FailureMidwayLeavesTheOldFileAndNoTempFile()
    {
        var (path, before) = SaveOld();
        var big = NamedTensor.FromFloats("big", [1 << 18], new float[1 << 18]); // 1 MiB: the temp file is really written to

        var error = Assert.Throws<InvalidOperationException>(() => CheckpointWriter.Save(path, WithTensors(new FailingList(big))));

        Assert.Equal("device lost", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".tmp"));
        Assert.Equal(1, CheckpointReader.Load(path, SampleCheckpoints.Raw).Header.Step);
    }

    [Fact]
    public void InvalidTensorMidwayLeavesTheOldFile()
    {
        var (path, before) = SaveOld();
        var good = NamedTensor.FromFloats("a", [2], [1f, 2f]);
        var bad = new NamedTensor("b", Graph.Tensors.DType.F32, [3], new byte[8]);

        var error = Assert.Throws<CheckpointException>(() => CheckpointWriter.Save(path, WithTensors([good, bad])));

        Assert.Equal($"{path}: cannot save: tensor 'b' has 8 bytes of data but f32[3] needs 12", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void DuplicateTensorNamesAreRefused()
    {
        var (path, before) = SaveOld();
        var a = NamedTensor.FromFloats("a", [1], [1f]);

        var error = Assert.Throws<CheckpointException>(() => CheckpointWriter.Save(path, WithTensors([a, a])));

        Assert.Contains("two tensors are named 'a'", error.Message);
        Assert.Equal(before, File.ReadAllBytes(path));
    }

    [Fact]
    public void SuccessfulSaveReplacesTheOldFile()
    {
        var (path, _) = SaveOld();

        CheckpointWriter.Save(path, SampleCheckpoints.Small(step: 2));

        Assert.Equal(2, CheckpointReader.Load(path, SampleCheckpoints.Raw).Header.Step);
        Assert.False(File.Exists(path + ".tmp"));
    }

    [Fact]
    public void UnwritableDirectoryIsACheckpointError()
    {
        string path = Path.Combine(_dir.Path, "no-such-dir", "model.ckpt");

        var error = Assert.Throws<CheckpointException>(() => CheckpointWriter.Save(path, SampleCheckpoints.Small()));

        Assert.StartsWith($"{path}: cannot write the checkpoint", error.Message);
    }
}
