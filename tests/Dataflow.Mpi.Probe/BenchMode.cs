using System.Diagnostics;
using System.Globalization;

namespace Dataflow.Mpi.Probe;

/// <summary>In-place float all-reduce bandwidth (the buffer's bytes per second) for each size given,
/// raw and through the <see cref="GradientBucketer"/> in 25 MiB buckets (which adds the division by the size).</summary>
internal static class BenchMode
{
    public static int Run(string[] sizes)
    {
        using var world = MpiCommunicator.Initialize();
        foreach (var text in sizes)
        {
            var count = int.Parse(text, CultureInfo.InvariantCulture);
            var data = new float[count];
            // Zeros stay zeros however often they are summed, so no overflow to infinity skews the timing.
            world.AllReduce(data, ReduceOp.Sum);
            var repeats = Math.Max(3, (int)(64_000_000L / count));
            world.Barrier();
            var start = Stopwatch.GetTimestamp();
            for (var i = 0; i < repeats; i++) world.AllReduce(data, ReduceOp.Sum);
            world.Barrier();
            var seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var perCall = seconds / repeats;
            Report(world, "all-reduce", count, repeats, perCall);

            var bucketer = new GradientBucketer(world);
            Memory<float>[] gradients = [data];
            world.Barrier();
            start = Stopwatch.GetTimestamp();
            for (var i = 0; i < repeats; i++) bucketer.AllReduceMean(gradients);
            world.Barrier();
            seconds = Stopwatch.GetElapsedTime(start).TotalSeconds;
            var stats = bucketer.Statistics;
            Report(world, $"bucketed mean ({stats.Buckets / repeats} buckets/call, {stats.CommunicationTime.TotalSeconds / seconds:P0} of it in MPI)",
                count, repeats, seconds / repeats);
        }
        return 0;
    }

    private static void Report(ICommunicator world, string what, int count, int repeats, double secondsPerCall)
    {
        if (world.Rank != 0) return;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{what}: {count} floats ({count * 4.0 / (1 << 20):F1} MiB) x{repeats} on {world.Size} ranks: {secondsPerCall * 1e3:F3} ms/call, {count * 4.0 / secondsPerCall / 1e9:F2} GB/s"));
    }
}
