using System.Diagnostics;
using System.Numerics.Tensors;

namespace Dataflow.Mpi;

/// <summary>
/// Averages gradients across ranks: the gradients, in the order given (which must be the same on
/// every rank), are laid end to end and cut into buckets of exactly <see cref="BucketBytes"/> (the
/// last may be shorter); each bucket is all-reduced, then divided by the world size. A bucket that
/// lies within one gradient is reduced in place; only one that spans several is copied through a
/// staging buffer. The cuts depend only on the gradients' lengths and the bucket size, so every rank
/// issues the same collectives and, MPI's all-reduce giving every rank the same sum, ends bit-identical.
/// </summary>
public sealed class GradientBucketer
{
    /// <summary>PyTorch DDP's default bucket size.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    private readonly ICommunicator _communicator;
    private readonly int _bucketFloats;
    private float[] _staging = [];
    // The gradient pieces that make up the bucket being filled: kept to avoid an allocation per step.
    private readonly List<Memory<float>> _pending = [];
    private int _filled;

    private long _calls, _buckets, _bytes, _lastBuckets, _lastBytes;
    private long _ticks, _lastTicks;

    public long BucketBytes => (long)_bucketFloats * sizeof(float);

    public GradientBucketer(ICommunicator communicator, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes < sizeof(float) || bucketBytes / sizeof(float) > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, $"a bucket holds between 4 bytes and {(long)Array.MaxLength * sizeof(float)} bytes");
        _communicator = communicator;
        _bucketFloats = (int)(bucketBytes / sizeof(float));
    }

    public BucketStatistics Statistics => new(
        _calls, _buckets, _bytes, Stopwatch.GetElapsedTime(0, _ticks), _lastBuckets, _lastBytes, Stopwatch.GetElapsedTime(0, _lastTicks));

    /// <summary>Replaces every gradient by its mean over all ranks. With one rank, nothing is sent.</summary>
    public void AllReduceMean(IReadOnlyList<Memory<float>> gradients)
    {
        _calls++;
        _lastBuckets = _lastBytes = _lastTicks = 0;
        if (_communicator.Size == 1) return;
        _pending.Clear(); // a collective that threw last time may have left pieces behind
        _filled = 0;
        foreach (var gradient in gradients)
        {
            var rest = gradient;
            while (!rest.IsEmpty)
            {
                var take = Math.Min(rest.Length, _bucketFloats - _filled);
                _pending.Add(rest[..take]);
                _filled += take;
                rest = rest[take..];
                if (_filled == _bucketFloats) Flush();
            }
        }
        Flush();
    }

    private void Flush()
    {
        if (_filled == 0) return;
        if (_pending.Count == 1)
        {
            Reduce(_pending[0].Span);
        }
        else
        {
            if (_staging.Length < _filled) _staging = new float[_bucketFloats];
            var offset = 0;
            foreach (var piece in _pending)
            {
                piece.Span.CopyTo(_staging.AsSpan(offset));
                offset += piece.Length;
            }
            Reduce(_staging.AsSpan(0, _filled));
            offset = 0;
            foreach (var piece in _pending)
            {
                _staging.AsSpan(offset, piece.Length).CopyTo(piece.Span);
                offset += piece.Length;
            }
        }
        _pending.Clear();
        _filled = 0;
    }

    private void Reduce(Span<float> bucket)
    {
        var start = Stopwatch.GetTimestamp();
        _communicator.AllReduce(bucket, ReduceOp.Sum);
        var elapsed = Stopwatch.GetTimestamp() - start;
        // Division rather than multiplying by 1/size, which would round twice when the size is not a power of two.
        TensorPrimitives.Divide(bucket, _communicator.Size, bucket);
        _ticks += elapsed;
        _lastTicks += elapsed;
        _buckets++;
        _lastBuckets++;
        _bytes += (long)bucket.Length * sizeof(float);
        _lastBytes += (long)bucket.Length * sizeof(float);
    }
}
