using System.Diagnostics;
using System.Globalization;

namespace Dataflow.Mpi.Probe;

/// <summary>In-place float all-reduce bandwidth (the buffer's bytes per second) for each size given.</summary>
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
            if (world.Rank == 0)
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                    $"all-reduce {count} floats ({count * 4.0 / (1 << 20):F1} MiB) x{repeats} on {world.Size} ranks: {perCall * 1e3:F3} ms/call, {count * 4.0 / perCall / 1e9:F2} GB/s"));
        }
        return 0;
    }
}
