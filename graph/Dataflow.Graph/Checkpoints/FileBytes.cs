using System.Buffers;

namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// Reads a file into a <see cref="ReadOnlySequence{T}"/> of chunks, so a checkpoint larger than one
/// array (2 GiB) can still be parsed by <see cref="MessagePack.MessagePackReader"/>.
/// </summary>
internal static class FileBytes
{
    private const int ChunkSize = 256 * 1024 * 1024;

    /// <summary>The first <paramref name="maxBytes"/> bytes (or all, when null) of an open file.</summary>
    public static ReadOnlySequence<byte> Read(FileStream stream, long? maxBytes = null)
    {
        long length = Math.Min(stream.Length, maxBytes ?? long.MaxValue);
        if (length == 0) return ReadOnlySequence<byte>.Empty;

        Chunk? first = null, last = null;
        for (long offset = 0; offset < length;)
        {
            var data = new byte[(int)Math.Min(ChunkSize, length - offset)];
            stream.ReadExactly(data);
            last = last is null ? new Chunk(data, 0) : last.Append(data);
            first ??= last;
            offset += data.Length;
        }
        return new ReadOnlySequence<byte>(first!, 0, last!, last!.Memory.Length);
    }

    private sealed class Chunk : ReadOnlySequenceSegment<byte>
    {
        public Chunk(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Chunk Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Chunk(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
