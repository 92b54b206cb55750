using System.Diagnostics;
using System.Numerics.Tensors;

namespace Dataflow.Mpi;

/// <summary>
/// Averages gradients across ranks: the gradients, in the order given (which must be the same on
/// every rank), are laid end to end and all-reduced in buckets of at most <see cref="BucketBytes"/>,
/// then divided by the world size. Small gradients are packed into a staging bucket, one as large as a
/// bucket or larger is reduced in place, piece by piece, so no tensor is copied needlessly. The
/// bucket boundaries depend only on the gradients' lengths and the bucket size, so every rank issues
/// the same collectives and, MPI's all-reduce giving every rank the same sum, ends bit-identical.
/// </summary>
public sealed class GradientBucketer
{
    /// <summary>PyTorch DDP's default bucket size.</summary>
    public const long DefaultBucketBytes = 25L << 20;

    private readonly ICommunicator _communicator;
    private readonly float[] _staging;
    private readonly int _bucketFloats;
    // The gradient pieces staged in the bucket, and where: kept to avoid an allocation per step.
    private readonly List<(Memory<float> Gradient, int Offset)> _pending = [];

    private long _calls, _buckets, _bytes, _lastBuckets, _lastBytes;
    private long _ticks, _lastTicks;

    public long BucketBytes => (long)_bucketFloats * sizeof(float);

    public GradientBucketer(ICommunicator communicator, long bucketBytes = DefaultBucketBytes)
    {
        if (bucketBytes < sizeof(float) || bucketBytes / sizeof(float) > Array.MaxLength)
            throw new ArgumentOutOfRangeException(nameof(bucketBytes), bucketBytes, $"a bucket holds between 4 bytes and {(long)Array.MaxLength * sizeof(float)} bytes");
        _communicator = communicator;
        _bucketFloats = (int)(bucketBytes / sizeof(float));
        _staging = communicator.Size > 1 ? new float[_bucketFloats] : [];
    }

    public BucketStatistics Statistics => new(
        _calls, _buckets, _bytes, Stopwatch.GetElapsedTime(0, _ticks), _lastBuckets, _lastBytes, Stopwatch.GetElapsedTime(0, _lastTicks));

    /// <summary>Replaces every gradient by its mean over all ranks. With one rank, nothing is sent.</summary>
    public void AllReduceMean(IReadOnlyList<Memory<float>> gradients)
    {
        _calls++;
        _lastBuckets = _lastBytes = _lastTicks = 0;
        if (_communicator.Size == 1) return;
        var pending = _pending;
        pending.Clear(); // a collective that threw last time may have left pieces behind
        var filled = 0;
        foreach (var gradient in gradients)
        {
            if (gradient.Length >= _bucketFloats)
            {
                // Whole buckets straight from the tensor; its tail joins the staging bucket.
                Flush(pending, ref filled);
                var span = gradient.Span;
                var whole = gradient.Length - gradient.Length % _bucketFloats;
                for (var start = 0; start < whole; start += _bucketFloats) Reduce(span.Slice(start, _bucketFloats));
                if (whole < gradient.Length) Stage(gradient[whole..], pending, ref filled);
                continue;
            }
            Stage(gradient, pending, ref filled);
        }
        Flush(pending, ref filled);
    }

    // Copies a gradient shorter than a bucket into the staging bucket, sending the bucket when full;
    // a gradient can straddle two buckets, which is what keeps every bucket full but the last.
    private void Stage(Memory<float> gradient, List<(Memory<float>, int)> pending, ref int filled)
    {
        var rest = gradient;
        while (!rest.IsEmpty)
        {
            var take = Math.Min(rest.Length, _bucketFloats - filled);
            rest.Span[..take].CopyTo(_staging.AsSpan(filled));
            pending.Add((rest[..take], filled));
            filled += take;
            rest = rest[take..];
            if (filled == _bucketFloats) Flush(pending, ref filled);
        }
    }

    private void Flush(List<(Memory<float> Gradient, int Offset)> pending, ref int filled)
    {
        if (filled == 0) return;
        Reduce(_staging.AsSpan(0, filled));
        foreach (var (gradient, offset) in pending) _staging.AsSpan(offset, gradient.Length).CopyTo(gradient.Span);
        pending.Clear();
        filled = 0;
    }

    private void Reduce(Span<float> bucket)
    {
        var start = Stopwatch.GetTimestamp();
        _communicator.AllReduce(bucket, ReduceOp.Sum);
        var elapsed = Stopwatch.GetTimestamp() - start;
        // Division, not multiplication by 1/size: the same rounding as a mean taken in one process.
        TensorPrimitives.Divide(bucket, _communicator.Size, bucket);
        _ticks += elapsed;
        _lastTicks += elapsed;
        _buckets++;
        _lastBuckets++;
        _bytes += (long)bucket.Length * sizeof(float);
        _lastBytes += (long)bucket.Length * sizeof(float);
    }
}
