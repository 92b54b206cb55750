using System.Diagnostics;
using Dataflow.Engine.Frame;
using Dataflow.Mpi;

namespace Dataflow.Training.Mpi;

/// <summary>
/// The Trainer's ranks over an <see cref="ICommunicator"/>: gradients averaged by a
/// <see cref="GradientBucketer"/> (fixed-order buckets, so every rank ends bit-identical), scalars
/// all-reduced or broadcast from rank 0 in double; with <paramref name="shardOptimizerState"/>, ZeRO
/// stage 1's gather of the parameters. Times every collective for the run's report.
/// </summary>
public sealed class MpiDataParallel(ICommunicator world, bool shardOptimizerState = false, long bucketBytes = GradientBucketer.DefaultBucketBytes)
    : IDataParallel, IOptimizerSharding
{
    private readonly GradientBucketer _bucketer = new(world, bucketBytes);
    private readonly double[] _scalar = new double[1];
    private long _scalarTicks;

    public int Rank => world.Rank;
    public int Size => world.Size;
    public string Description => world.Description;

    public void Exchange(IReadOnlyList<Memory<float>> gradients) => _bucketer.AllReduceMean(gradients);

    public double Mean(double value)
    {
        long started = Stopwatch.GetTimestamp();
        _scalar[0] = value;
        world.AllReduce(_scalar, ReduceOp.Sum);
        _scalarTicks += Stopwatch.GetTimestamp() - started;
        return _scalar[0] / world.Size;
    }

    public double FromRoot(double value)
    {
        long started = Stopwatch.GetTimestamp();
        Span<byte> bytes = stackalloc byte[sizeof(double)];
        BitConverter.TryWriteBytes(bytes, value);
        world.Broadcast(bytes, root: 0);
        _scalarTicks += Stopwatch.GetTimestamp() - started;
        return BitConverter.ToDouble(bytes);
    }

    public IReadOnlyList<double> EveryRank(double value)
    {
        long started = Stopwatch.GetTimestamp();
        var values = new double[world.Size];
        values[world.Rank] = value;
        world.AllReduce(values, ReduceOp.Sum);    // the others' zeros leave each value exact
        _scalarTicks += Stopwatch.GetTimestamp() - started;
        return values;
    }

    public IOptimizerSharding? Sharding => shardOptimizerState ? this : null;

    public void Broadcast(Span<float> data, int root)
    {
        long started = Stopwatch.GetTimestamp();
        world.Broadcast(data, root);
        _scalarTicks += Stopwatch.GetTimestamp() - started;
    }

    public void Gather(ReadOnlySpan<float> send, Span<float> receive, ReadOnlySpan<int> counts, int root)
    {
        long started = Stopwatch.GetTimestamp();
        world.GatherV(send, receive, counts, root);
        _scalarTicks += Stopwatch.GetTimestamp() - started;
    }

    public void Heartbeat() => (world as WatchedCommunicator)?.Watchdog.Heartbeat();

    public DataParallelStatistics Statistics
    {
        get
        {
            var buckets = _bucketer.Statistics;
            return new DataParallelStatistics(buckets.Calls, buckets.BytesReduced, buckets.CommunicationTime + Stopwatch.GetElapsedTime(0, _scalarTicks), buckets.CommunicationTime);
        }
    }
}
