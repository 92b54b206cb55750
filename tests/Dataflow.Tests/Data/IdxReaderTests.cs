using Dataflow.Engine.Data;
using Dataflow.Tests.Support;

namespace Dataflow.Tests.Data;

public sealed class IdxReaderTests : IDisposable
{
    private readonly TempDirectory _dir = new();

    public void Dispose() => _dir.Dispose();

    private static readonly byte[] Pixels = [0, 1, 2, 3, 4, 5, 250, 251, 252, 253, 254, 255];

    private string Write(string name, byte[] bytes)
    {
        string path = _dir.File(name);
        File.WriteAllBytes(path, bytes);
        return path;
    }

    private string Fails(byte[] bytes, string expectedProblem)
    {
        string path = Write("bad.idx", bytes);
        var error = Assert.Throws<DataException>(() => IdxReader.Read(path));
        Assert.StartsWith(path + ": ", error.Message);
        Assert.Contains(expectedProblem, error.Message);
        return error.Message;
    }

    [Theory]
    [InlineData(false, "images-idx3-ubyte")]
    [InlineData(true, "images-idx3-ubyte.gz")]
    [InlineData(true, "renamed-without-gz")] // gzip is recognised by its magic, not its name
    public void ReadsDimsAndData(bool gzip, string name)
    {
        byte[] plain = IdxFiles.Encode([3, 2, 2], Pixels);
        string path = Write(name, gzip ? IdxFiles.Gzip(plain) : plain);

        var idx = IdxReader.Read(path);

        Assert.Equal([3, 2, 2], idx.Dims);
        Assert.Equal(Pixels, idx.Data);
        Assert.Equal("[3, 2, 2]", idx.DimsText);
    }

    [Fact]
    public void ReadsRankOneLabels()
    {
        var idx = IdxReader.Read(Write("labels", IdxFiles.Encode([4], [9, 0, 0, 3])));

        Assert.Equal([4], idx.Dims);
        Assert.Equal([9, 0, 0, 3], idx.Data);
    }

    [Fact]
    public void MissingFileIsNamed()
    {
        string path = _dir.File("absent-idx3-ubyte.gz");

        Assert.Equal($"{path}: no such file", Assert.Throws<DataException>(() => IdxReader.Read(path)).Message);
    }

    [Fact]
    public void BadMagicIsReported()
    {
        Fails("hello world, not idx"u8.ToArray(), "not an IDX file (bad magic 68656C6C)");
        Fails(IdxFiles.Encode([2], [1, 2], type: 0x42), "not an IDX file");
    }

    [Fact]
    public void OtherElementTypesAreNamed()
    {
        Fails(IdxFiles.Encode([1], [0, 0, 0, 0], type: 0x0D), "IDX element type 0x0D is not supported; only unsigned bytes (0x08)");
    }

    [Fact]
    public void TruncationIsReportedWherePossible()
    {
        byte[] full = IdxFiles.Encode([3, 2, 2], Pixels);

        Fails(full[..3], "truncated: shorter than an IDX header");
        Fails(full[..10], "truncated: the header promises 3 dims but the file ends first");
        Fails(full[..^1], "truncated: dims [3, 2, 2] need 12 bytes of data but the file has 11");
        Fails(IdxFiles.Gzip(full[..^5]), "truncated: dims [3, 2, 2] need 12 bytes of data but the file has 7");
    }

    [Fact]
    public void DataLongerThanTheDimsIsReported()
    {
        Fails(IdxFiles.Encode([3, 2, 2], [.. Pixels, 7]), "dims [3, 2, 2] describe 12 bytes of data but the file has more");
    }

    [Fact]
    public void CorruptedGzipIsReported()
    {
        byte[] gzip = IdxFiles.Gzip(IdxFiles.Encode([3, 2, 2], Pixels));
        gzip[10] = 0xFF; // the first deflate block now claims the reserved block type 3

        Fails(gzip, "corrupted gzip data");
    }
}
