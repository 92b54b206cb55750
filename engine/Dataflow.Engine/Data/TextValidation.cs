using System.Text;

namespace Dataflow.Engine.Data;

/// <summary>
/// Text a model is trained on must be text: bytes that are not valid UTF-8 would silently become
/// U+FFFD replacement characters, and a NUL byte almost always means a binary file was given.
/// Both are refused, naming the byte offset, before any training starts.
/// </summary>
public static class TextValidation
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Decodes <paramref name="bytes"/> as strict UTF-8 (a leading byte-order mark is skipped); <paramref name="source"/> names the text in errors.</summary>
    public static string DecodeUtf8(ReadOnlySpan<byte> bytes, string source)
    {
        int start = bytes.StartsWith("\uFEFF"u8) ? 3 : 0;
        var body = bytes[start..];
        int nul = body.IndexOf((byte)0);
        int invalid = FirstInvalidUtf8(body);
        if (nul >= 0 && (invalid < 0 || nul < invalid))
            throw new DataException($"{source}: byte offset {start + nul} is a NUL byte (0x00); this looks like a binary file, not text");
        if (invalid >= 0)
            throw new DataException($"{source}: byte offset {start + invalid} (0x{body[invalid]:X2}) is not valid UTF-8; the text must be UTF-8 encoded");
        return Strict.GetString(body);
    }

    /// <summary>Reads a file with <see cref="DecodeUtf8"/>; a file that cannot be read is a DataException too.</summary>
    public static string ReadUtf8File(string path)
    {
        byte[] bytes;
        try
        {
            bytes = File.ReadAllBytes(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
        {
            throw new DataException($"{path}: cannot read: {(e is FileNotFoundException or DirectoryNotFoundException ? "no such file" : e.Message)}", e);
        }
        return DecodeUtf8(bytes, path);
    }

    /// <summary>The offset of the first byte that does not start or continue a valid UTF-8 sequence, or −1.</summary>
    public static int FirstInvalidUtf8(ReadOnlySpan<byte> bytes)
    {
        if (System.Text.Unicode.Utf8.IsValid(bytes)) return -1;    // the vectorised common case
        int offset = 0;
        while (offset < bytes.Length)
        {
            if (Rune.DecodeFromUtf8(bytes[offset..], out _, out int consumed) != System.Buffers.OperationStatus.Done) return offset;
            offset += consumed;
        }
        return -1;
    }
}
