namespace Dataflow.Mpi;

/// <summary>What a <see cref="GradientBucketer"/> has sent: per call (the last) and in total, for the
/// note's bytes-per-step and communication share.</summary>
public readonly record struct BucketStatistics(
    long Calls,
    long Buckets,
    long BytesReduced,
    TimeSpan CommunicationTime,
    long LastCallBuckets,
    long LastCallBytes,
    TimeSpan LastCallTime)
{
    /// <summary>Bytes all-reduced per second of communication, over all calls (0 before any).</summary>
    public double BytesPerSecond => CommunicationTime > TimeSpan.Zero ? BytesReduced / CommunicationTime.TotalSeconds : 0;
}
