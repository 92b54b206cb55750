using System.Buffers.Binary;
using System.IO.Compression;

namespace Dataflow.Tests.Data;

/// <summary>Writes small IDX files (plain or gzip) for the data tests.</summary>
internal static class IdxFiles
{
    public static byte[] Encode(int[] dims, byte[] data, byte type = 0x08)
    {
        var bytes = new byte[4 + 4 * dims.Length + data.Length];
        bytes[2] = type;
        bytes[3] = (byte)dims.Length;
        for (int i = 0; i < dims.Length; i++) BinaryPrimitives.WriteInt32BigEndian(bytes.AsSpan(4 + 4 * i), dims[i]);
        data.CopyTo(bytes, 4 + 4 * dims.Length);
        return bytes;
    }

    public static byte[] Gzip(byte[] bytes)
    {
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest)) gzip.Write(bytes);
        return output.ToArray();
    }

    /// <summary>Images whose pixel j (counting across all images) is j mod 256, and labels i mod 10.</summary>
    public static void WriteFashionPair(string directory, string prefix, int count, bool gzip)
    {
        var pixels = new byte[count * 28 * 28];
        for (int i = 0; i < pixels.Length; i++) pixels[i] = (byte)i;
        var labels = Enumerable.Range(0, count).Select(i => (byte)(i % 10)).ToArray();
        string suffix = gzip ? ".gz" : "";
        byte[] images = Encode([count, 28, 28], pixels), labelFile = Encode([count], labels);
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-images-idx3-ubyte{suffix}"), gzip ? Gzip(images) : images);
        File.WriteAllBytes(Path.Combine(directory, $"{prefix}-labels-idx1-ubyte{suffix}"), gzip ? Gzip(labelFile) : labelFile);
    }
}
