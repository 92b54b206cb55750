using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;

namespace Dataflow.Mpi;

/// <summary>
/// Every rank's process id and machine, exchanged once at start-up, so that a rank can tell that a
/// peer on its own machine has died (SIGKILL, the OOM killer) instead of waiting out the collective
/// timeout for it. OpenMPI's shared-memory transport never reports a vanished peer (a collective just
/// waits), so this looks at the process table: /proc/&lt;pid&gt; gone, or a zombie. Peers on other
/// machines cannot be looked at; for them the watchdog's timeout still applies.
/// </summary>
public sealed class PeerProcesses
{
    private readonly int _rank;
    private readonly long[] _machines;
    private readonly int[] _pids;

    /// <param name="machines">per rank, a key of its machine and process namespace (0: unknown, never local)</param>
    public PeerProcesses(int rank, IReadOnlyList<long> machines, IReadOnlyList<int> pids)
    {
        if (machines.Count != pids.Count || (uint)rank >= (uint)pids.Count)
            throw new ArgumentOutOfRangeException(nameof(rank), $"rank {rank} with {machines.Count} machine keys and {pids.Count} process ids");
        (_rank, _machines, _pids) = (rank, [.. machines], [.. pids]);
    }

    /// <summary>Rank r's process id and machine key, gathered on every rank (one all-reduce of 2·Size longs: each rank fills its own pair).</summary>
    public static PeerProcesses Exchange(ICommunicator world)
    {
        var table = new long[2 * world.Size];
        table[2 * world.Rank] = ThisMachine();
        table[2 * world.Rank + 1] = Environment.ProcessId;
        world.AllReduce(table, ReduceOp.Sum);
        return new PeerProcesses(world.Rank,
            [.. Enumerable.Range(0, world.Size).Select(r => table[2 * r])],
            [.. Enumerable.Range(0, world.Size).Select(r => (int)table[2 * r + 1])]);
    }

    /// <summary>The ranks whose process this rank can see (same machine, same process namespace), itself excluded.</summary>
    public IEnumerable<int> LocalPeers =>
        Enumerable.Range(0, _pids.Length).Where(r => r != _rank && _machines[r] != 0 && _machines[r] == _machines[_rank]);

    /// <summary>
    /// "rank 1 (pid 1234) has died", or "rank 0 (pid 1230) and rank 1 (pid 1234) have died" (every
    /// local peer whose process has ended: a survivor that already left names the first death too,
    /// so a later one names both), or null while all live.
    /// </summary>
    public string? Dead()
    {
        var dead = LocalPeers.Where(r => !IsAlive(_pids[r])).Select(r => $"rank {r} (pid {_pids[r]})").ToList();
        return dead.Count switch
        {
            0 => null,
            1 => dead[0] + " has died",
            _ => string.Join(", ", dead.Take(dead.Count - 1)) + " and " + dead[^1] + " have died",
        };
    }

    private static bool IsAlive(int pid)
    {
        try
        {
            // The state is the field after the command name, which is in parentheses and may hold spaces.
            var stat = File.ReadAllText($"/proc/{pid}/stat");
            var state = stat[(stat.LastIndexOf(')') + 2)..].TrimStart();
            return state.Length > 0 && state[0] is not ('Z' or 'X');
        }
        catch (IOException) { return false; }                   // no such process (any more)
        catch (UnauthorizedAccessException) { return true; }     // there, but not ours to read
    }

    /// <summary>
    /// A key that two processes share exactly when each can see the other's pid: the same boot of the
    /// same machine (its boot id) and the same pid namespace (containers have their own). 0 off Linux.
    /// </summary>
    internal static long ThisMachine()
    {
        try
        {
            var boot = File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
            var namespaceLink = new FileInfo("/proc/self/ns/pid").LinkTarget ?? "";
            var hash = SHA256.HashData(Encoding.UTF8.GetBytes(boot + "|" + namespaceLink));
            // Positive and non-zero, so that the all-reduce's sum of one key and zeros is the key.
            return (long)(BinaryPrimitives.ReadUInt64LittleEndian(hash) >> 2) + 1;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return 0;
        }
    }
}
