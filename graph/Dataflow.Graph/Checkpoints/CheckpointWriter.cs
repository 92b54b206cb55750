using System.Globalization;
using MessagePack;
using Dataflow.Graph.Tensors;

namespace Dataflow.Graph.Checkpoints;

/// <summary>Writes a checkpoint in the layout of <see cref="CheckpointFormat"/>, atomically.</summary>
public static class CheckpointWriter
{
    /// <summary>
    /// Writes to <c>path + ".tmp"</c>, forces it to disk, then renames it over <paramref name="path"/>:
    /// a crash or error at any point leaves the previous checkpoint as it was.
    /// </summary>
    public static void Save(string path, Checkpoint checkpoint)
    {
        var header = checkpoint.Header;
        if (header.Format != CheckpointFormat.Name || header.Version != CheckpointFormat.Version)
            throw new ArgumentException(
                $"this build writes {CheckpointFormat.Name} version {CheckpointFormat.Version}, not {header.Format} version {header.Version}",
                nameof(checkpoint));

        string tmp = path + ".tmp";
        try
        {
            using (var stream = new FileStream(tmp, FileMode.Create, FileAccess.Write, FileShare.None, bufferSize: 1 << 16))
            {
                using var sink = new HashingFileSink(stream);
                WriteBody(sink, checkpoint, path);
                byte[] digest = sink.Digest();
                // The checksum is outside its own hash, so it is written past the sink.
                stream.Write([0xC4, CheckpointFormat.ChecksumLength]);
                stream.Write(digest);
                stream.Flush(flushToDisk: true);
            }
            File.Move(tmp, path, overwrite: true);
        }
        catch (Exception ex)
        {
            TryDelete(tmp);
            if (ex is IOException or UnauthorizedAccessException)
                throw new CheckpointException(path, $"cannot write the checkpoint: {ex.Message}", ex);
            throw;
        }
    }

    private static void WriteBody(HashingFileSink sink, Checkpoint checkpoint, string path)
    {
        var writer = new MessagePackWriter(sink);
        writer.WriteArrayHeader(CheckpointFormat.ElementCount);
        writer.Write(CheckpointFormat.Name);
        writer.Write(CheckpointFormat.Version);
        WriteHeader(ref writer, checkpoint.Header);
        WriteTensors(ref writer, sink, checkpoint.Tensors, path);
        WriteTensors(ref writer, sink, checkpoint.OptimizerState, path);
        writer.Write(checkpoint.RngState);
        if (checkpoint.TokenizerJson is null) writer.WriteNil();
        else writer.Write(checkpoint.TokenizerJson);
        writer.Flush();
    }

    private static void WriteHeader(ref MessagePackWriter writer, CheckpointHeader header)
    {
        writer.WriteMapHeader(5);
        writer.Write(CheckpointFormat.Keys.Graph);
        writer.Write(header.GraphName);
        writer.Write(CheckpointFormat.Keys.Layout);
        writer.Write(header.LayoutHash);
        writer.Write(CheckpointFormat.Keys.Step);
        writer.Write(header.Step);
        writer.Write(CheckpointFormat.Keys.Created);
        // Round-trip text keeps ticks and the offset, and stays readable in any MessagePack dump.
        writer.Write(header.Created.ToString("O", CultureInfo.InvariantCulture));
        writer.Write(CheckpointFormat.Keys.Config);
        writer.WriteMapHeader(header.Config.Count);
        // Sorted, so the same run writes the same bytes.
        foreach (var (key, value) in header.Config.OrderBy(kv => kv.Key, StringComparer.Ordinal))
        {
            writer.Write(key);
            writer.Write(value);
        }
    }

    private static void WriteTensors(ref MessagePackWriter writer, HashingFileSink sink, IReadOnlyList<NamedTensor> tensors, string path)
    {
        var names = new HashSet<string>(StringComparer.Ordinal);
        writer.WriteArrayHeader(tensors.Count);
        for (int i = 0; i < tensors.Count; i++)
        {
            var tensor = tensors[i];
            if (tensor.Problem() is { } problem) throw new CheckpointException(path, $"cannot save: {problem}");
            if (!names.Add(tensor.Name)) throw new CheckpointException(path, $"cannot save: two tensors are named '{tensor.Name}'");

            writer.WriteArrayHeader(4);
            writer.Write(tensor.Name);
            writer.Write(tensor.DType.Name());
            writer.WriteArrayHeader(tensor.Shape.Length);
            foreach (long dim in tensor.Shape) writer.Write(dim);
            writer.WriteBinHeader(tensor.Data.Length);
            writer.Flush();
            sink.WriteDirect(tensor.Data);
        }
    }

    private static void TryDelete(string tmp)
    {
        try { File.Delete(tmp); }
        catch (IOException) { /* the original error matters more than a leftover temp file */ }
        catch (UnauthorizedAccessException) { }
    }
}
