using System.Buffers;
using System.Globalization;
using System.Security.Cryptography;
using MessagePack;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// Reads a checkpoint written by <see cref="CheckpointWriter"/>, checking everything: the format name,
/// the version, the checksum, and that each tensor's bytes fit its dtype and shape. Every problem is a
/// <see cref="CheckpointException"/> that names the file.
/// </summary>
public static class CheckpointReader
{
    /// <summary>Loads and checks a checkpoint; one whose tensors hold NaN or ±∞ is refused (see <see cref="CheckpointLoadOptions"/>).</summary>
    public static Checkpoint Load(string path) => Load(path, CheckpointLoadOptions.Default);

    public static Checkpoint Load(string path, CheckpointLoadOptions options)
    {
        var checkpoint = LoadUnchecked(path);
        NonFiniteValues.Check(checkpoint, path, options);
        return checkpoint;
    }

    private static Checkpoint LoadUnchecked(string path)
    {
        var bytes = ReadAll(path);
        var reader = new MessagePackReader(bytes);
        ReadPrefix(ref reader, path, bytes.Length);

        // Verify before parsing, so a flipped byte is reported as corruption rather than as whatever
        // nonsense it decodes to; then tell a cut-off file apart from a damaged one.
        if (bytes.Length < reader.Consumed + CheckpointFormat.TrailerLength || !ChecksumMatches(bytes))
        {
            if (RunsOutEarly(reader)) throw Truncated(path, bytes.Length);
            throw new CheckpointException(path, "corrupted: checksum mismatch");
        }
        return ParseBody(ref reader, path);
    }

    /// <summary>
    /// Reads only the format, version and header, for listing and inspecting: it reads the start of
    /// the file, not the tensors, and so does not verify the checksum (<see cref="Load"/> does).
    /// </summary>
    public static CheckpointHeader ReadHeader(string path)
    {
        using var stream = Open(path);
        for (long window = 64 * 1024; ; window *= 4)
        {
            stream.Position = 0;
            var bytes = FileBytes.Read(stream, window);
            bool whole = bytes.Length == stream.Length;
            try
            {
                var reader = new MessagePackReader(bytes);
                int version = ReadPrefix(ref reader, path, whole ? bytes.Length : long.MaxValue);
                return ReadHeaderMap(ref reader, version);
            }
            catch (EndOfStreamException) when (!whole)
            {
                // The header is longer than the window read so far: read more.
            }
            catch (EndOfStreamException)
            {
                throw Truncated(path, bytes.Length);
            }
            catch (Exception ex) when (ex is MessagePackSerializationException or FormatException or OverflowException)
            {
                throw new CheckpointException(path, "corrupted: the header is malformed", ex);
            }
        }
    }

    private static FileStream Open(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1);
        }
        catch (Exception ex) when (ex is FileNotFoundException or DirectoryNotFoundException)
        {
            throw new CheckpointException(path, "no such file", ex);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException(path, $"cannot read: {ex.Message}", ex);
        }
    }

    private static ReadOnlySequence<byte> ReadAll(string path)
    {
        using var stream = Open(path);
        try
        {
            return FileBytes.Read(stream);
        }
        catch (IOException ex)
        {
            throw new CheckpointException(path, $"cannot read: {ex.Message}", ex);
        }
    }

    /// <summary>
    /// Checks the array header, format name and version, and returns the version. Compares the name
    /// byte by byte so that a file cut inside it reads as truncated and any other file as foreign.
    /// <paramref name="fileLength"/> is long.MaxValue when only a prefix of the file is in hand.
    /// </summary>
    private static int ReadPrefix(ref MessagePackReader reader, string path, long fileLength)
    {
        if (fileLength == 0) throw new CheckpointException(path, "empty file, not a dataflow checkpoint");
        try
        {
            if (reader.NextMessagePackType != MessagePackType.Array) throw NotACheckpoint(path);
            int elements = reader.ReadArrayHeader();

            byte[] magic = CheckpointFormat.MagicString;
            var rest = reader.Sequence.Slice(reader.Position);
            int available = (int)Math.Min(rest.Length, magic.Length);
            Span<byte> head = stackalloc byte[available];
            rest.Slice(0, available).CopyTo(head);
            if (!head.SequenceEqual(magic.AsSpan(0, available))) throw NotACheckpoint(path);
            if (available < magic.Length) throw new EndOfStreamException();
            reader.ReadString(); // the bytes just matched; this only moves past them

            if (reader.NextMessagePackType != MessagePackType.Integer)
                throw new CheckpointException(path, "corrupted: the format version is not a number");
            long version = reader.ReadInt64();
            if (version > CheckpointFormat.Version)
                throw new CheckpointException(path, $"format version {version} is newer than this build reads ({CheckpointFormat.Version})");
            if (version < 1)
                throw new CheckpointException(path, $"unknown format version {version}");
            if (elements != CheckpointFormat.ElementCount)
                throw new CheckpointException(path, $"corrupted: {elements} sections where version {version} has {CheckpointFormat.ElementCount}");
            return (int)version;
        }
        catch (EndOfStreamException) when (fileLength != long.MaxValue)
        {
            throw Truncated(path, fileLength);
        }
        catch (MessagePackSerializationException ex)
        {
            throw new CheckpointException(path, "corrupted: the format version is malformed", ex);
        }
    }

    private static bool ChecksumMatches(ReadOnlySequence<byte> bytes)
    {
        long bodyLength = bytes.Length - CheckpointFormat.TrailerLength;
        Span<byte> trailer = stackalloc byte[CheckpointFormat.TrailerLength];
        bytes.Slice(bodyLength).CopyTo(trailer);
        if (trailer[0] != 0xC4 || trailer[1] != CheckpointFormat.ChecksumLength) return false;

        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        foreach (var chunk in bytes.Slice(0, bodyLength)) hash.AppendData(chunk.Span);
        Span<byte> digest = stackalloc byte[CheckpointFormat.ChecksumLength];
        hash.GetHashAndReset(digest);
        return CryptographicOperations.FixedTimeEquals(digest, trailer[2..]);
    }

    /// <summary>Whether the sections after the version need more bytes than the file has.</summary>
    private static bool RunsOutEarly(MessagePackReader reader)
    {
        try
        {
            for (int i = 2; i < CheckpointFormat.ElementCount; i++) reader.Skip();
            return false;
        }
        catch (EndOfStreamException) { return true; }
        catch (MessagePackSerializationException) { return false; }
    }

    /// <summary>Parses the sections after the version; the checksum has already matched.</summary>
    private static Checkpoint ParseBody(ref MessagePackReader reader, string path)
    {
        string section = "header";
        try
        {
            var header = ReadHeaderMap(ref reader, CheckpointFormat.Version);
            section = "tensors";
            var tensors = ReadTensors(ref reader, path, "tensor");
            section = "optimizer state";
            var optimizer = ReadTensors(ref reader, path, "optimizer state");
            section = "RNG state";
            byte[] rng = reader.ReadBytes()?.ToArray() ?? throw new FormatException("nil");
            section = "tokenizer";
            string? tokenizer = reader.TryReadNil() ? null : reader.ReadString();
            section = "checksum";
            reader.Skip();
            if (!reader.End) throw new FormatException("trailing bytes");
            return new Checkpoint { Header = header, Tensors = tensors, OptimizerState = optimizer, RngState = rng, TokenizerJson = tokenizer };
        }
        catch (Exception ex) when (ex is MessagePackSerializationException or EndOfStreamException or FormatException or OverflowException)
        {
            // The checksum matched, so the writer itself produced this: say where, not the decoder's words.
            throw new CheckpointException(path, $"corrupted: the {section} section is malformed", ex);
        }
    }

    private static CheckpointHeader ReadHeaderMap(ref MessagePackReader reader, int version)
    {
        string? graph = null, layout = null;
        long? step = null;
        DateTimeOffset? created = null;
        Dictionary<string, string>? config = null;

        int entries = reader.ReadMapHeader();
        for (int i = 0; i < entries; i++)
        {
            switch (RequireString(ref reader))
            {
                case CheckpointFormat.Keys.Graph: graph = RequireString(ref reader); break;
                case CheckpointFormat.Keys.Layout: layout = RequireString(ref reader); break;
                case CheckpointFormat.Keys.Step: step = reader.ReadInt64(); break;
                case CheckpointFormat.Keys.Created:
                    created = DateTimeOffset.ParseExact(RequireString(ref reader), "O", CultureInfo.InvariantCulture, DateTimeStyles.RoundtripKind);
                    break;
                case CheckpointFormat.Keys.Config:
                    int count = reader.ReadMapHeader();
                    config = new Dictionary<string, string>(count, StringComparer.Ordinal);
                    for (int j = 0; j < count; j++) config[RequireString(ref reader)] = RequireString(ref reader);
                    break;
                default:
                    reader.Skip(); // a newer writer of the same version may add fields
                    break;
            }
        }
        if (graph is null || layout is null || step is null || created is null || config is null)
            throw new FormatException("the header lacks a required field");
        return new CheckpointHeader(CheckpointFormat.Name, version, graph, layout, step.Value, created.Value, config);
    }

    private static List<NamedTensor> ReadTensors(ref MessagePackReader reader, string path, string what)
    {
        int count = reader.ReadArrayHeader();
        var tensors = new List<NamedTensor>(count);
        var names = new HashSet<string>(StringComparer.Ordinal);
        for (int i = 0; i < count; i++)
        {
            if (reader.ReadArrayHeader() != 4) throw new FormatException("a tensor is not [name, dtype, shape, data]");
            string name = RequireString(ref reader);
            string dtypeName = RequireString(ref reader);
            if (!DTypeExtensions.TryParse(dtypeName, out var dtype))
                throw new CheckpointException(path, $"{what} '{name}' has unknown dtype '{dtypeName}'");
            var shape = new long[reader.ReadArrayHeader()];
            for (int d = 0; d < shape.Length; d++) shape[d] = reader.ReadInt64();
            byte[] data = reader.ReadBytes()?.ToArray() ?? throw new FormatException("tensor data is nil");

            var tensor = new NamedTensor(name, dtype, shape, data);
            if (tensor.Problem() is { } problem) throw new CheckpointException(path, $"corrupted: {problem}");
            if (!names.Add(name)) throw new CheckpointException(path, $"corrupted: two {what} tensors are named '{name}'");
            tensors.Add(tensor);
        }
        return tensors;
    }

    private static string RequireString(ref MessagePackReader reader) =>
        reader.ReadString() ?? throw new FormatException("expected a string, found nil");

    private static CheckpointException NotACheckpoint(string path) => new(path, "not a dataflow checkpoint (bad magic)");

    private static CheckpointException Truncated(string path, long length) =>
        new(path, $"truncated: the file ends after {length} bytes");
}
