namespace Dataflow.Mpi.Probe;

/// <summary>
/// Every collective against values each rank can predict for all ranks, then the bucketer: the
/// averaged gradients must equal the mean computed locally and be bit-identical on every rank.
/// </summary>
internal static class CollectivesMode
{
    public static int Run()
    {
        using var world = MpiCommunicator.Initialize();
        int rank = world.Rank, size = world.Size;
        var ranks = Enumerable.Range(0, size).ToArray();

        var floats = new float[1001];
        for (var i = 0; i < floats.Length; i++) floats[i] = FloatValue(rank, i);
        var sums = floats.ToArray();
        world.AllReduce(sums, ReduceOp.Sum);
        var maxes = floats.ToArray();
        world.AllReduce(maxes, ReduceOp.Max);
        var mins = floats.ToArray();
        world.AllReduce(mins, ReduceOp.Min);
        for (var i = 0; i < floats.Length; i++)
        {
            var index = i;
            Expect(sums[i] == ranks.Sum(r => (double)FloatValue(r, index)), $"float sum at {i}: {sums[i]}");
            Expect(maxes[i] == ranks.Max(r => FloatValue(r, index)), $"float max at {i}: {maxes[i]}");
            Expect(mins[i] == ranks.Min(r => FloatValue(r, index)), $"float min at {i}: {mins[i]}");
        }

        var doubles = new double[17];
        for (var i = 0; i < doubles.Length; i++) doubles[i] = 1e10 * (rank + 1) + i;
        world.AllReduce(doubles, ReduceOp.Sum);
        for (var i = 0; i < doubles.Length; i++)
            Expect(doubles[i] == ranks.Sum(r => 1e10 * (r + 1) + i), $"double sum at {i}: {doubles[i]}");

        // Values above 2^32 prove the 64-bit type reaches MPI as MPI_LONG.
        long[] longs = [(rank + 1L) << 40, -(rank + 1L) << 36, rank];
        var longMax = longs.ToArray();
        var longMin = longs.ToArray();
        world.AllReduce(longs, ReduceOp.Sum);
        world.AllReduce(longMax, ReduceOp.Max);
        world.AllReduce(longMin, ReduceOp.Min);
        Expect(longs[0] == ranks.Sum(r => (r + 1L) << 40) && longs[2] == ranks.Sum(r => (long)r), $"long sum: {string.Join(",", longs)}");
        Expect(longMax[0] == (long)size << 40 && longMax[1] == -1L << 36, $"long max: {string.Join(",", longMax)}");
        Expect(longMin[0] == 1L << 40 && longMin[1] == -(long)size << 36, $"long min: {string.Join(",", longMin)}");

        world.AllReduce(Span<float>.Empty, ReduceOp.Sum);

        var root = size - 1;
        var bytes = new byte[300];
        if (rank == root) for (var i = 0; i < bytes.Length; i++) bytes[i] = (byte)(i * 3);
        world.Broadcast(bytes, root);
        for (var i = 0; i < bytes.Length; i++) Expect(bytes[i] == (byte)(i * 3), $"byte broadcast at {i}: {bytes[i]}");
        var broadcastFloats = rank == 0 ? new[] { 1.5f, -2.25f, float.MaxValue } : new float[3];
        world.Broadcast(broadcastFloats, 0);
        Expect(broadcastFloats.SequenceEqual([1.5f, -2.25f, float.MaxValue]), $"float broadcast: {string.Join(",", broadcastFloats)}");

        world.Barrier();

        var gathered = new float[3 * size];
        world.AllGather([rank * 10f, rank * 10f + 1, rank * 10f + 2], gathered);
        for (var i = 0; i < gathered.Length; i++) Expect(gathered[i] == i / 3 * 10 + i % 3, $"all-gather at {i}: {gathered[i]}");

        var counts = ranks.Select(r => r + 1).ToArray();
        var slice = Enumerable.Range(0, rank + 1).Select(j => rank * 100f + j).ToArray();
        var gatheredV = new float[counts.Sum()];
        world.AllGatherV(slice, gatheredV, counts);
        var expectedV = ranks.SelectMany(r => Enumerable.Range(0, r + 1).Select(j => r * 100f + j)).ToArray();
        Expect(gatheredV.SequenceEqual(expectedV), $"all-gather-v: {string.Join(",", gatheredV)}");

        // Only the root receives; the others pass no buffer at all.
        var gatheredAtRoot = rank == root ? new float[counts.Sum()] : [];
        world.GatherV(slice, gatheredAtRoot, counts, root);
        if (rank == root) Expect(gatheredAtRoot.SequenceEqual(expectedV), $"gather-v: {string.Join(",", gatheredAtRoot)}");

        var bucketed = CheckBucketer(world);
        CheckHardwareExceptions();
        Console.WriteLine($"rank {rank} of {size}: collectives ok; bucketer reduced {bucketed.BytesReduced} bytes in {bucketed.Buckets} buckets");
        return 0;
    }

    // Gradients of awkward lengths in buckets of 64 floats: staged, straddling and in-place buckets.
    private static BucketStatistics CheckBucketer(ICommunicator world)
    {
        int[] lengths = [1, 5, 300, 7, 2049, 3, 64];
        var gradients = lengths.Select((n, t) => Enumerable.Range(0, n).Select(i => GradientValue(world.Rank, t, i)).ToArray()).ToArray();
        var bucketer = new GradientBucketer(world, bucketBytes: 64 * sizeof(float));
        bucketer.AllReduceMean(gradients.Select(g => new Memory<float>(g)).ToArray());

        for (var t = 0; t < lengths.Length; t++)
        for (var i = 0; i < lengths[t]; i++)
        {
            // With two ranks the float sum has one rounding whatever the order, so the mean is exact.
            var sum = 0f;
            for (var r = 0; r < world.Size; r++) sum += GradientValue(r, t, i);
            var mean = sum / world.Size;
            var ok = world.Size <= 2 ? gradients[t][i] == mean : Math.Abs(gradients[t][i] - mean) <= 1e-6f * Math.Abs(mean) + 1e-7f;
            Expect(ok, $"bucketed mean of tensor {t} at {i}: {gradients[t][i]}, expected {mean}");
        }

        // Bit-identical on every rank: the largest and the smallest hash over all ranks agree.
        var hash = new[] { Fnv(gradients) };
        var low = hash.ToArray();
        world.AllReduce(hash, ReduceOp.Max);
        world.AllReduce(low, ReduceOp.Min);
        Expect(hash[0] == low[0], "bucketed gradients differ between ranks");

        var stats = bucketer.Statistics;
        // One process sends nothing (a singleton run without mpirun is a world of one).
        var expectedBytes = world.Size > 1 ? lengths.Sum() * sizeof(float) : 0;
        Expect(stats.BytesReduced == expectedBytes && stats.LastCallBytes == stats.BytesReduced,
            $"bucketer statistics: {stats}");
        return stats;
    }

    // OpenMPI installs handlers for SIGSEGV and SIGFPE unless one is there; .NET turns those signals
    // into NullReferenceException and DivideByZeroException, which must still be catchable after MPI_Init.
    private static void CheckHardwareExceptions()
    {
        string? missing = Environment.ProcessId < 0 ? "never" : null;
        var zero = Environment.ProcessId < 0 ? 1 : 0;
        var caught = 0;
        try { _ = missing!.Length; } catch (NullReferenceException) { caught++; }
        try { _ = 5 / zero; } catch (DivideByZeroException) { caught++; }
        Expect(caught == 2, "a hardware exception was not delivered to .NET after MPI_Init");
    }

    private static float FloatValue(int rank, int i) => (rank + 1) * 0.5f + i % 97 - (rank * 31 + i) % 13;

    // Arbitrary but reproducible floats with full mantissas, so roundings would show.
    private static float GradientValue(int rank, int tensor, int i)
    {
        var x = (uint)(rank * 7919 + tensor * 104729 + i * 31337) * 2654435761u;
        return (x >> 8) / (float)(1 << 24) - 0.5f;
    }

    private static long Fnv(float[][] tensors)
    {
        var hash = 14695981039346656037UL;
        foreach (var tensor in tensors)
        foreach (var value in tensor)
            hash = (hash ^ BitConverter.SingleToUInt32Bits(value)) * 1099511628211UL;
        return (long)hash;
    }

    private static void Expect(bool condition, string what)
    {
        if (!condition) throw new ProbeFailure(what);
    }
}
