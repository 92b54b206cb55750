using Dataflow.Graph.Checkpoints;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Checkpoints;

public sealed class CheckpointRoundTripTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    [Fact]
    public void FloatsRoundTripBitExactIncludingNaNPayloadsAndNegativeZero()
    {
        float[] values =
        [
            -0f, 0f, float.PositiveInfinity, float.NegativeInfinity, float.Epsilon, float.MaxValue,
            BitConverter.Int32BitsToSingle(0x7FC12345), // quiet NaN with a payload
            BitConverter.Int32BitsToSingle(0x7F800001), // signalling NaN
            BitConverter.Int32BitsToSingle(unchecked((int)0xFFFFFFFF)),
            1.17549421e-38f, // subnormal
        ];
        var checkpoint = SampleCheckpoints.Small();
        var withValues = new Checkpoint
        {
            Header = checkpoint.Header,
            Tensors = [NamedTensor.FromFloats("w", [2, 5], values)],
            OptimizerState = [],
            RngState = [],
        };
        string path = _dir.File("bits.ckpt");

        CheckpointWriter.Save(path, withValues);
        float[] loaded = CheckpointReader.Load(path, SampleCheckpoints.Raw).Tensors[0].AsFloats();

        Assert.Equal(values.Select(BitConverter.SingleToInt32Bits), loaded.Select(BitConverter.SingleToInt32Bits));
    }

    [Fact]
    public void EverySectionRoundTrips()
    {
        var original = SampleCheckpoints.Small();
        var withTokenizer = new Checkpoint
        {
            Header = original.Header,
            Tensors = original.Tensors,
            OptimizerState = original.OptimizerState,
            RngState = original.RngState,
            TokenizerJson = "{\"vocab\": {\"a\": 0, \"é\": 1}}",
        };
        string path = _dir.File("all.ckpt");

        CheckpointWriter.Save(path, withTokenizer);
        var loaded = CheckpointReader.Load(path, SampleCheckpoints.Raw);

        Assert.Equal(["l1.weight", "l1.bias"], loaded.Tensors.Select(t => t.Name));
        Assert.Equal(["l1.weight/m", "t"], loaded.OptimizerState.Select(t => t.Name));
        for (int i = 0; i < original.Tensors.Count; i++)
        {
            Assert.Equal(original.Tensors[i].DType, loaded.Tensors[i].DType);
            Assert.Equal(original.Tensors[i].Shape, loaded.Tensors[i].Shape);
            Assert.Equal(original.Tensors[i].Data, loaded.Tensors[i].Data);
        }
        Assert.Equal(DType.I32, loaded.OptimizerState[1].DType);
        Assert.Empty(loaded.OptimizerState[1].Shape);
        Assert.Equal([7], loaded.OptimizerState[1].AsInts());
        Assert.Equal(original.RngState, loaded.RngState);
        Assert.Equal(withTokenizer.TokenizerJson, loaded.TokenizerJson);
    }

    [Fact]
    public void HeaderFieldsRoundTrip()
    {
        var original = SampleCheckpoints.Small(step: 123_456_789_012);
        string path = _dir.File("header.ckpt");

        CheckpointWriter.Save(path, original);

        foreach (var header in new[] { CheckpointReader.Load(path, SampleCheckpoints.Raw).Header, CheckpointReader.ReadHeader(path) })
        {
            Assert.Equal("dataflow-checkpoint", header.Format);
            Assert.Equal(1, header.Version);
            Assert.Equal("mlp", header.GraphName);
            Assert.Equal(original.Header.LayoutHash, header.LayoutHash);
            Assert.Equal(123_456_789_012, header.Step);
            Assert.Equal(SampleCheckpoints.Created, header.Created);
            Assert.Equal(SampleCheckpoints.Created.Offset, header.Created.Offset);
            Assert.Equal(original.Header.Config.OrderBy(kv => kv.Key), header.Config.OrderBy(kv => kv.Key));
        }
        Assert.Null(CheckpointReader.Load(path, SampleCheckpoints.Raw).TokenizerJson);
    }

    [Fact]
    public void ReadHeaderReadsHeadersLargerThanItsFirstWindow()
    {
        var original = SampleCheckpoints.Small();
        var big = new Dictionary<string, string> { ["notes"] = new string('x', 300_000) };
        var checkpoint = new Checkpoint
        {
            Header = original.Header with { Config = big },
            Tensors = original.Tensors,
            OptimizerState = [],
            RngState = [],
        };
        string path = _dir.File("big-header.ckpt");

        CheckpointWriter.Save(path, checkpoint);

        Assert.Equal(300_000, CheckpointReader.ReadHeader(path).Config["notes"].Length);
    }

    [Fact]
    public void SavingTheSameCheckpointTwiceWritesTheSameBytes()
    {
        CheckpointWriter.Save(_dir.File("a.ckpt"), SampleCheckpoints.Small());
        CheckpointWriter.Save(_dir.File("b.ckpt"), SampleCheckpoints.Small());

        Assert.Equal(File.ReadAllBytes(_dir.File("a.ckpt")), File.ReadAllBytes(_dir.File("b.ckpt")));
    }

    [Fact]
    public void WriterRefusesAnotherFormatVersion()
    {
        var original = SampleCheckpoints.Small();
        var checkpoint = new Checkpoint
        {
            Header = original.Header with { Version = 2 },
            Tensors = [],
            OptimizerState = [],
            RngState = [],
        };

        Assert.Throws<ArgumentException>(() => CheckpointWriter.Save(_dir.File("v2.ckpt"), checkpoint));
    }
}
