namespace Dataflow.Mpi.Tests;

public class CollectiveWatchdogTests
{
    private sealed class Outcome
    {
        public readonly ManualResetEventSlim Aborted = new();
        public string? Message;
        public int ExitCode = -1;
        public int Reports;

        public void Report(string message)
        {
            Interlocked.Increment(ref Reports);
            Message = message;
        }

        public void Abort(int code)
        {
            ExitCode = code;
            Aborted.Set();
        }
    }

    private static readonly TimeSpan Patience = TimeSpan.FromSeconds(10);

    [Fact]
    public void ACollectiveThatWaitsTooLongAbortsNamingTheRankAndTheCall()
    {
        var outcome = new Outcome();
        using var watchdog = new CollectiveWatchdog(new WatchdogOptions(TimeSpan.FromMilliseconds(200)), 3, 4, outcome.Report, outcome.Abort);
        using (watchdog.Enter("all-reduce (Sum) of 8 floats"))
            Assert.True(outcome.Aborted.Wait(Patience), "the watchdog did not fire");
        Assert.Equal(1, outcome.ExitCode);
        Assert.Contains("rank 3 of 4", outcome.Message);
        Assert.Contains("all-reduce (Sum) of 8 floats (collective #1)", outcome.Message);
        Assert.Contains("another rank failed or stalled", outcome.Message);
        Assert.True(watchdog.Fired);
    }

    [Fact]
    public void ARankThatStopsReachingCollectivesNamesItself()
    {
        var outcome = new Outcome();
        var options = new WatchdogOptions(TimeSpan.FromSeconds(30), IdleTimeout: TimeSpan.FromMilliseconds(200), ExitCode: 7);
        using var watchdog = new CollectiveWatchdog(options, 1, 2, outcome.Report, outcome.Abort);
        using (watchdog.Enter("barrier")) { }
        Assert.True(outcome.Aborted.Wait(Patience), "the watchdog did not fire");
        Assert.Equal(7, outcome.ExitCode);
        Assert.Contains("rank 1 of 2: stalled", outcome.Message);
        Assert.Contains("since barrier (collective #1)", outcome.Message);
        Assert.Equal(1, outcome.Reports);
    }

    [Fact]
    public void ProgressWithinTheLimitsNeverFires()
    {
        var outcome = new Outcome();
        var options = new WatchdogOptions(TimeSpan.FromSeconds(4), IdleTimeout: TimeSpan.FromSeconds(2));
        using var watchdog = new CollectiveWatchdog(options, 0, 2, outcome.Report, outcome.Abort);
        var until = DateTime.UtcNow.AddSeconds(1.5);
        while (DateTime.UtcNow < until)
        {
            using (watchdog.Enter("all-reduce")) Thread.Sleep(5);
            Thread.Sleep(5);
            watchdog.Heartbeat();
        }
        Assert.False(outcome.Aborted.IsSet, outcome.Message);
        Assert.False(watchdog.Fired);
    }

    [Fact]
    public void ADeadPeerEndsThisRankAloneAtOnceNamingThePeer()
    {
        var outcome = new Outcome();
        var left = new ManualResetEventSlim();
        var leftWith = -1;
        string? dead = null;
        // A limit far beyond the test: only the dead-peer check can fire.
        using var watchdog = new CollectiveWatchdog(new WatchdogOptions(TimeSpan.FromMinutes(5)), 0, 3, outcome.Report, outcome.Abort,
            deadPeer: () => dead, leave: code => { leftWith = code; left.Set(); });
        using (watchdog.Enter("all-reduce (Sum) of 8 floats"))
        {
            Thread.Sleep(100);
            Assert.False(watchdog.Fired);
            dead = "rank 2 (pid 4242) has died";
            Assert.True(left.Wait(Patience), "the watchdog did not notice the dead peer");
        }
        Assert.Equal(1, leftWith);
        Assert.False(outcome.Aborted.IsSet);                   // left by itself: no MPI_Abort of the others
        Assert.Equal(1, outcome.Reports);
        Assert.Contains("rank 0 of 3: rank 2 (pid 4242) has died", outcome.Message);
        Assert.Contains("has died (no such process; while this rank waited in all-reduce (Sum) of 8 floats, collective #1)", outcome.Message);
    }

    [Fact]
    public void NonPositiveLimitsAreRefused()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new WatchdogOptions(TimeSpan.Zero).Validate());
        Assert.Throws<ArgumentOutOfRangeException>(() => new WatchdogOptions(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(-1)).Validate());
    }

    [Fact]
    public void AFinalizeThatWaitsForeverIsWatchedLikeACollective()
    {
        var aborted = new ManualResetEventSlim();
        var exitCode = -1;
        string? message = null;
        var fake = new FakeCommunicator(2, _ => 0f)
        {
            OnDispose = () => Assert.True(aborted.Wait(Patience), "finalize was not watched"),
            OnAbort = code => { exitCode = code; aborted.Set(); },
        };
        new WatchedCommunicator(fake, new WatchdogOptions(TimeSpan.FromMilliseconds(200), WatchPeers: false), m => message = m).Dispose();
        Assert.Equal(1, exitCode);
        Assert.Contains("rank 0 of 2: finalize (collective #1) waited", message);
    }

    [Fact]
    public void AWatchedCommunicatorPassesCollectivesThrough()
    {
        var outcome = new Outcome();
        using var world = new WatchedCommunicator(new SingleProcessCommunicator(), new WatchdogOptions(TimeSpan.FromSeconds(30)), outcome.Report);
        var received = new float[2];
        world.AllGather([1f, 2f], received);
        world.Barrier();
        Assert.Equal([1f, 2f], received);
        Assert.Equal((0, 1), (world.Rank, world.Size));
        Assert.False(world.Watchdog.Fired);
    }
}
