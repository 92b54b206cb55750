using System.Buffers;
using System.Security.Cryptography;

namespace Dataflow.Graph.Checkpoints;

/// <summary>
/// The buffer a <see cref="MessagePack.MessagePackWriter"/> writes into: every committed byte goes to the
/// file and into a running SHA-256, so the checksum costs no second pass. Tensor data bypasses the
/// buffer through <see cref="WriteDirect"/>, so a large tensor is never copied whole.
/// </summary>
internal sealed class HashingFileSink(Stream stream) : IBufferWriter<byte>, IDisposable
{
    private readonly IncrementalHash _hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
    private byte[] _buffer = ArrayPool<byte>.Shared.Rent(64 * 1024);
    private int _pending;

    public void Advance(int count) => _pending += count;

    public Memory<byte> GetMemory(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsMemory(_pending);
    }

    public Span<byte> GetSpan(int sizeHint = 0)
    {
        EnsureRoom(sizeHint);
        return _buffer.AsSpan(_pending);
    }

    public void WriteDirect(ReadOnlySpan<byte> data)
    {
        FlushPending();
        _hash.AppendData(data);
        stream.Write(data);
    }

    /// <summary>Writes out what is buffered and returns the digest of everything written so far.</summary>
    public byte[] Digest()
    {
        FlushPending();
        return _hash.GetHashAndReset();
    }

    public void Dispose()
    {
        _hash.Dispose();
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = [];
    }

    private void EnsureRoom(int sizeHint)
    {
        int needed = Math.Max(sizeHint, 1);
        if (_buffer.Length - _pending >= needed) return;
        FlushPending();
        if (_buffer.Length >= needed) return;
        ArrayPool<byte>.Shared.Return(_buffer);
        _buffer = ArrayPool<byte>.Shared.Rent(needed);
    }

    private void FlushPending()
    {
        if (_pending == 0) return;
        _hash.AppendData(_buffer, 0, _pending);
        stream.Write(_buffer, 0, _pending);
        _pending = 0;
    }
}
