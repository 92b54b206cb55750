namespace Dataflow.Mpi;

/// <summary>Argument checks every communicator makes alike, so a fake and MPI fail the same way.</summary>
internal static class CollectiveChecks
{
    public static void Root(int root, int size)
    {
        if ((uint)root >= (uint)size)
            throw new CommunicatorUsageException($"broadcast root {root} is not a rank of a world of {size}");
    }

    public static void AllGather(int sendLength, int receiveLength, int size)
    {
        if ((long)sendLength * size != receiveLength)
            throw new CommunicatorUsageException(
                $"all-gather of {sendLength} values from each of {size} ranks needs a receive buffer of {(long)sendLength * size}, not {receiveLength}");
    }

    /// <summary>Returns the displacements (prefix sums of the counts); the receive buffer is checked only where it is used.</summary>
    public static int[] AllGatherV(int sendLength, int receiveLength, ReadOnlySpan<int> counts, int rank, int size, bool receives = true)
    {
        if (counts.Length != size)
            throw new CommunicatorUsageException($"all-gather-v needs one count per rank ({size}), got {counts.Length}");
        if (counts[rank] != sendLength)
            throw new CommunicatorUsageException($"all-gather-v: rank {rank} sends {sendLength} values but its count says {counts[rank]}");
        var displacements = new int[size];
        long total = 0;
        for (var r = 0; r < size; r++)
        {
            if (counts[r] < 0) throw new CommunicatorUsageException($"all-gather-v: rank {r}'s count {counts[r]} is negative");
            displacements[r] = (int)Math.Min(total, int.MaxValue);
            total += counts[r];
        }
        if (receives && total != receiveLength)
            throw new CommunicatorUsageException($"all-gather-v: the counts add up to {total} but the receive buffer holds {receiveLength}");
        if (total > int.MaxValue)
            throw new CommunicatorUsageException($"all-gather-v of {total} values exceeds MPI's int count");
        return displacements;
    }

    public static int[] GatherV(int sendLength, int receiveLength, ReadOnlySpan<int> counts, int root, int rank, int size)
    {
        Root(root, size);
        return AllGatherV(sendLength, receiveLength, counts, rank, size, receives: rank == root);
    }
}
