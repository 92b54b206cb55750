using Dataflow.Graph.Checkpoints;
using Dataflow.Tests.Support;
using MessagePack;

namespace Dataflow.Tests.Checkpoints;

/// <summary>Damaged and foreign files: each must fail with a CheckpointException that names the file and the problem.</summary>
public sealed class CheckpointCorruptionTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private string SaveSmall()
    {
        string path = _dir.File("small.ckpt");
        CheckpointWriter.Save(path, SampleCheckpoints.Small());
        return path;
    }

    private CheckpointException LoadFails(byte[] bytes, string name = "bad.ckpt")
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.Load(path));
        Assert.StartsWith(path + ": ", error.Message);
        return error;
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = _dir.File("nope.ckpt");

        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.Load(path));

        Assert.Equal($"{path}: no such file", error.Message);
        Assert.Equal($"{path}: no such file", Assert.Throws<CheckpointException>(() => CheckpointReader.ReadHeader(path)).Message);
    }

    [Fact]
    public void EmptyFileIsNotACheckpoint()
    {
        Assert.Contains("empty file", LoadFails([]).Problem);
    }

    [Fact]
    public void TruncationAtEveryLengthIsReportedAsTruncation()
    {
        byte[] full = File.ReadAllBytes(SaveSmall());

        for (int length = 1; length < full.Length; length++)
        {
            var error = LoadFails(full[..length]);
            Assert.True(error.Problem.StartsWith("truncated", StringComparison.Ordinal), $"length {length}: {error.Message}");
            Assert.Contains($"{length} bytes", error.Problem);
        }
    }

    [Fact]
    public void ReadHeaderReportsTruncationInsideTheHeader()
    {
        byte[] full = File.ReadAllBytes(SaveSmall());
        string path = _dir.File("cut.ckpt");
        File.WriteAllBytes(path, full[..40]);

        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.ReadHeader(path));

        Assert.StartsWith("truncated", error.Problem);
    }

    [Fact]
    public void EveryFlippedByteIsDetected()
    {
        byte[] full = File.ReadAllBytes(SaveSmall());
        string path = _dir.File("flipped.ckpt");

        foreach (byte mask in new byte[] { 0x01, 0x80, 0xFF })
        {
            for (int offset = 0; offset < full.Length; offset++)
            {
                byte[] damaged = (byte[])full.Clone();
                damaged[offset] ^= mask;
                File.WriteAllBytes(path, damaged);

                var error = Record.Exception(() => CheckpointReader.Load(path));

                Assert.True(error is CheckpointException, $"offset {offset} mask {mask:x2}: {error?.GetType().Name ?? "loaded without error"}");
            }
        }
    }

    [Fact]
    public void AFlippedByteInTensorDataIsAChecksumMismatch()
    {
        byte[] full = File.ReadAllBytes(SaveSmall());
        full[full.Length / 2] ^= 0x10;

        Assert.Equal("corrupted: checksum mismatch", LoadFails(full).Problem);
    }

    [Fact]
    public void NewerVersionIsNamedWithTheVersionThisBuildReads()
    {
        byte[] bytes = SampleCheckpoints.Build((ref MessagePackWriter w) =>
        {
            SampleCheckpoints.WritePrefix(ref w, version: 7);
            w.Write("whatever version 7 holds");
        });

        Assert.Equal("format version 7 is newer than this build reads (1)", LoadFails(bytes).Problem);
    }

    [Fact]
    public void NewerVersionIsReportedEvenByReadHeader()
    {
        byte[] bytes = SampleCheckpoints.Build((ref MessagePackWriter w) => SampleCheckpoints.WritePrefix(ref w, version: 7));
        string path = _dir.File("v7.ckpt");
        File.WriteAllBytes(path, bytes);

        var error = Assert.Throws<CheckpointException>(() => CheckpointReader.ReadHeader(path));

        Assert.Contains("version 7 is newer", error.Message);
    }

    [Fact]
    public void VersionZeroIsUnknown()
    {
        byte[] bytes = SampleCheckpoints.Build((ref MessagePackWriter w) => SampleCheckpoints.WritePrefix(ref w, version: 0));

        Assert.Equal("unknown format version 0", LoadFails(bytes).Problem);
    }

    [Theory]
    [InlineData("hello, this is a text file and not a checkpoint at all")]
    [InlineData("\u0093\u00a5hello")] // a MessagePack array of another kind
    public void ForeignFileIsNotACheckpoint(string content)
    {
        byte[] bytes = content.Select(c => (byte)c).ToArray();

        Assert.Equal("not a dataflow checkpoint (bad magic)", LoadFails(bytes).Problem);
    }

    [Fact]
    public void OtherMessagePackDocumentIsNotACheckpoint()
    {
        byte[] bytes = MessagePackSerializer.Serialize(new Dictionary<string, int> { ["a"] = 1 });

        Assert.Equal("not a dataflow checkpoint (bad magic)", LoadFails(bytes).Problem);
    }

    [Fact]
    public void TensorWhoseDataDisagreesWithItsShapeIsNamed()
    {
        byte[] bytes = SampleCheckpoints.Build((ref MessagePackWriter w) =>
        {
            SampleCheckpoints.WritePrefix(ref w, version: 1);
            SampleCheckpoints.WriteHeader(ref w);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(4);
            w.Write("l1.weight");
            w.Write("f32");
            w.WriteArrayHeader(2);
            w.Write(4);
            w.Write(3);
            w.Write(new byte[40]); // 10 floats where [4, 3] needs 12
            w.WriteArrayHeader(0);
            w.Write(Array.Empty<byte>());
            w.WriteNil();
        });

        Assert.Equal("corrupted: tensor 'l1.weight' has 40 bytes of data but f32[4, 3] needs 48", LoadFails(bytes).Problem);
    }

    [Fact]
    public void UnknownDTypeIsNamed()
    {
        byte[] bytes = SampleCheckpoints.Build((ref MessagePackWriter w) =>
        {
            SampleCheckpoints.WritePrefix(ref w, version: 1);
            SampleCheckpoints.WriteHeader(ref w);
            w.WriteArrayHeader(1);
            w.WriteArrayHeader(4);
            w.Write("emb");
            w.Write("f16");
            w.WriteArrayHeader(1);
            w.Write(2);
            w.Write(new byte[4]);
            w.WriteArrayHeader(0);
            w.Write(Array.Empty<byte>());
            w.WriteNil();
        });

        Assert.Equal("tensor 'emb' has unknown dtype 'f16'", LoadFails(bytes).Problem);
    }

    [Fact]
    public void MalformedSectionBehindAValidChecksumNamesTheSection()
    {
        byte[] bytes = SampleCheckpoints.Build((ref MessagePackWriter w) =>
        {
            SampleCheckpoints.WritePrefix(ref w, version: 1);
            SampleCheckpoints.WriteHeader(ref w);
            w.Write("not an array of tensors");
            w.WriteArrayHeader(0);
            w.Write(Array.Empty<byte>());
            w.WriteNil();
        });

        Assert.Equal("corrupted: the tensors section is malformed", LoadFails(bytes).Problem);
    }
}
