using System.Text;
using Dataflow.Engine.Data;

namespace Dataflow.Tests.Data;

public sealed class TextValidationTests
{
    [Fact]
    public void ValidUtf8DecodesIncludingCharactersOutsideTheBmp()
    {
        var text = "héllo 𝟘 wörld\n";
        Assert.Equal(text, TextValidation.DecodeUtf8(Encoding.UTF8.GetBytes(text), "t.txt"));
        Assert.Equal("ab", TextValidation.DecodeUtf8([0xEF, 0xBB, 0xBF, (byte)'a', (byte)'b'], "t.txt"));    // BOM skipped
        Assert.Equal("", TextValidation.DecodeUtf8([], "t.txt"));
    }

    [Theory]
    [InlineData(new byte[] { (byte)'a', (byte)'b', 0xFF, (byte)'c' }, 2, "0xFF")]             // never valid
    [InlineData(new byte[] { (byte)'a', 0xC3 }, 1, "0xC3")]                                     // cut-off sequence
    [InlineData(new byte[] { (byte)'x', (byte)'y', (byte)'z', 0xC0, 0x80 }, 3, "0xC0")]         // overlong NUL
    [InlineData(new byte[] { 0xED, 0xA0, 0x80 }, 0, "0xED")]                                    // a surrogate
    public void InvalidUtf8IsRefusedAtItsByteOffset(byte[] bytes, int offset, string shown)
    {
        var error = Assert.Throws<DataException>(() => TextValidation.DecodeUtf8(bytes, "bin.txt"));
        Assert.Equal($"bin.txt: byte offset {offset} ({shown}) is not valid UTF-8; the text must be UTF-8 encoded", error.Message);
        Assert.Equal(offset, TextValidation.FirstInvalidUtf8(bytes));
    }

    [Fact]
    public void NulBytesAreRefused()
    {
        var error = Assert.Throws<DataException>(() => TextValidation.DecodeUtf8("abc\0def"u8, "bin.txt"));
        Assert.StartsWith("bin.txt: byte offset 3 is a NUL byte", error.Message);
    }

    [Fact]
    public void AMissingFileIsADataException() =>
        Assert.Contains("no such file", Assert.Throws<DataException>(() => TextValidation.ReadUtf8File("/nonexistent/x.txt")).Message);
}
