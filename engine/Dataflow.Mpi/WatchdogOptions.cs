namespace Dataflow.Mpi;

/// <summary>
/// When the <see cref="CollectiveWatchdog"/> gives up. <paramref name="CollectiveTimeout"/>: the longest
/// one collective may wait for the other ranks (must exceed the longest work one rank does while the
/// others wait, e.g. rank 0's evaluation or checkpoint). <paramref name="IdleTimeout"/>: the longest a
/// rank may go between collectives (or <see cref="CollectiveWatchdog.Heartbeat"/>s); keep it below the
/// collective timeout so that a stalled rank names itself before its peers report waiting for it.
/// Null turns the idle check off. <paramref name="WatchPeers"/>: exchange process ids at start-up and end
/// this rank as soon as a peer on the same machine has died (<see cref="PeerProcesses"/>).
/// </summary>
public sealed record WatchdogOptions(TimeSpan CollectiveTimeout, TimeSpan? IdleTimeout = null, int ExitCode = 1, bool WatchPeers = true)
{
    public void Validate()
    {
        if (CollectiveTimeout <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(CollectiveTimeout), CollectiveTimeout, "the collective timeout must be positive");
        if (IdleTimeout is { } idle && idle <= TimeSpan.Zero)
            throw new ArgumentOutOfRangeException(nameof(IdleTimeout), idle, "the idle timeout must be positive");
    }
}
