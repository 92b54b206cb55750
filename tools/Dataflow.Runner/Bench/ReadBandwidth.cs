using System.Diagnostics;
using System.Numerics.Tensors;
using Dataflow.Engine.Jobs;

namespace Dataflow.Runner.Bench;

/// <summary>
/// The machine's memory read bandwidth as decoding sees it: every worker of the job system sums its
/// share of a buffer far larger than the caches. Batch-1 decoding reads every weight once per token,
/// so bandwidth ÷ weight bytes bounds its tokens/s; measured in the same run as the decode it bounds.
/// </summary>
public static class ReadBandwidth
{
    /// <summary>GB/s (10⁹ bytes), best of <paramref name="tries"/> passes over <paramref name="megabytes"/> MB.</summary>
    public static double Measure(int megabytes = 512, int tries = 4)
    {
        var data = new float[megabytes * (1 << 20) / sizeof(float)];
        Array.Fill(data, 1f);   // touch every page before timing
        int parts = JobSystem.Shared.WorkerCount * 4, length = data.Length / parts;
        var sums = new float[parts];
        double best = 0;
        for (int t = 0; t < tries; t++)
        {
            long start = Stopwatch.GetTimestamp();
            JobSystem.Shared.ParallelFor(parts, 1, (first, last) =>
            {
                for (int p = first; p < last; p++) sums[p] = TensorPrimitives.Sum(data.AsSpan(p * length, length));
            });
            double seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            best = Math.Max(best, (double)parts * length * sizeof(float) / seconds / 1e9);
        }
        GC.KeepAlive(sums);
        return best;
    }
}
