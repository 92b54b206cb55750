using System.Buffers.Binary;
using System.IO.Compression;

namespace Dataflow.Engine.Data;

/// <summary>
/// Reads IDX files, the format MNIST-style data sets ship in: two zero bytes, a type code, the rank,
/// then one big-endian int32 per dim, then the values. Gzip-compressed files are recognised by their
/// magic bytes, not their name, so a renamed file still reads. Only unsigned bytes (type 0x08) are
/// read, as that is what image and label files hold.
/// </summary>
public static class IdxReader
{
    private const byte UnsignedByte = 0x08;
    private static readonly byte[] KnownTypes = [0x08, 0x09, 0x0B, 0x0C, 0x0D, 0x0E];

    public static IdxFile Read(string path)
    {
        if (!File.Exists(path)) throw new DataException($"{path}: no such file");
        try
        {
            using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
            using var stream = IsGzip(file) ? new GZipStream(file, CompressionMode.Decompress) : (Stream)file;
            return ReadFrom(stream, path);
        }
        catch (InvalidDataException ex)
        {
            throw new DataException($"{path}: corrupted gzip data ({ex.Message})", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new DataException($"{path}: cannot read ({ex.Message})", ex);
        }
    }

    /// <summary>Peeks at the gzip magic (1F 8B) and rewinds.</summary>
    private static bool IsGzip(FileStream file)
    {
        Span<byte> magic = stackalloc byte[2];
        int read = file.ReadAtLeast(magic, magic.Length, throwOnEndOfStream: false);
        file.Position = 0;
        return read == 2 && magic[0] == 0x1F && magic[1] == 0x8B;
    }

    private static IdxFile ReadFrom(Stream stream, string path)
    {
        Span<byte> head = stackalloc byte[4];
        if (stream.ReadAtLeast(head, head.Length, throwOnEndOfStream: false) < head.Length)
            throw new DataException($"{path}: truncated: shorter than an IDX header");
        if (head[0] != 0 || head[1] != 0 || !KnownTypes.Contains(head[2]) || head[3] == 0)
            throw new DataException($"{path}: not an IDX file (bad magic {Convert.ToHexString(head)})");
        if (head[2] != UnsignedByte)
            throw new DataException($"{path}: IDX element type 0x{head[2]:X2} is not supported; only unsigned bytes (0x08)");

        int rank = head[3];
        var dimBytes = new byte[4 * rank];
        if (stream.ReadAtLeast(dimBytes, dimBytes.Length, throwOnEndOfStream: false) < dimBytes.Length)
            throw new DataException($"{path}: truncated: the header promises {rank} dims but the file ends first");
        var dims = new int[rank];
        long count = 1;
        for (int i = 0; i < rank; i++)
        {
            dims[i] = BinaryPrimitives.ReadInt32BigEndian(dimBytes.AsSpan(4 * i));
            if (dims[i] < 0) throw new DataException($"{path}: dim {i} is negative ({dims[i]})");
            count *= dims[i]; // count was at most Array.MaxLength, dims[i] < 2^31: the product fits a long
            if (count > Array.MaxLength) throw new DataException($"{path}: dims {IdxFile.Format(dims)} describe more data than one array holds");
        }

        var data = new byte[count];
        int got = stream.ReadAtLeast(data, data.Length, throwOnEndOfStream: false);
        if (got < data.Length)
            throw new DataException($"{path}: truncated: dims {IdxFile.Format(dims)} need {count} bytes of data but the file has {got}");
        if (stream.ReadByte() != -1)
            throw new DataException($"{path}: dims {IdxFile.Format(dims)} describe {count} bytes of data but the file has more");
        return new IdxFile(path, dims, data);
    }
}
