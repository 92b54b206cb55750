namespace Dataflow.Mpi.Tests;

/// <summary>The binding in real multi-process runs. One at a time: each run starts several .NET processes.</summary>
[CollectionDefinition(nameof(MpiLaunchTests), DisableParallelization = true)]
public sealed class MpiLaunchCollection;

[Collection(nameof(MpiLaunchTests))]
public class MpiLaunchTests
{
    [Theory]
    [InlineData(2)]
    [InlineData(3)]
    public void EveryCollectiveAndTheBucketerAgreeOnEveryRank(int ranks)
    {
        var run = MpiRun.Probe(ranks, "collectives");
        Assert.True(run.ExitCode == 0, run.ToString());
        for (var rank = 0; rank < ranks; rank++)
            Assert.Contains($"rank {rank} of {ranks}: collectives ok; bucketer reduced 9716 bytes in 38 buckets", run.Stdout);
    }

    [Fact]
    public void ARankThatStallsNamesItselfAndEndsTheRunWithExit1() =>
        AssertEndedBy(MpiRun.Probe(2, "stall-idle"), 1, "probe: rank 1 of 2: stalled");

    [Fact]
    public void AFrozenRankIsCaughtByItsPeerWaitingInTheCollective() =>
        AssertEndedBy(MpiRun.Probe(2, "stall-stopped"), 1, "probe: rank 0 of 2: all-reduce (Sum) of 8 floats (collective #2) waited");

    [Fact]
    public void ARankThatExitsWithAnErrorEndsTheOthersWithExit1() =>
        AssertEndedBy(MpiRun.Probe(2, "exit-early"), 1, "rank 1 fails on purpose");

    [Fact]
    public void ARankThatThrowsReportsItselfAndAbortsTheRunWithExit1() =>
        AssertEndedBy(MpiRun.Probe(2, "throw-early"), 1, "probe: rank 1 of 2: rank 1 fails on purpose");

    // By default it is a race: either mpirun sees the death first, kills the survivor and exits 128 + the
    // signal, naming the rank; or the survivor sees it first, names it and exits 1, and mpirun exits 1.
    [Fact]
    public void AKilledRankEndsTheOthersAndIsNamed()
    {
        var run = MpiRun.Probe(2, "killed");
        if (run.ExitCode == 128 + 9) AssertEndedBy(run, 128 + 9, "process rank 1 with PID");
        else AssertEndedBy(run, 1, "probe: rank 0 of 2: rank 1 (pid ");
    }

    // With --enable-recovery mpirun lets the survivors run on when a rank dies: each sees that its peer's
    // process is gone and ends by itself with exit 1, naming it, long before the 10 s collective limit.
    // mpirun then exits 0 (OpenMPI 4.1.4): only the ranks' own exit codes tell the failure.
    [Fact]
    public void AKilledRankIsNamedByEverySurvivorWhichEndsWithExit1()
    {
        var run = MpiRun.ProbeRecordingEachRank(3, ["--enable-recovery"], "killed");
        Assert.True(run.RankExitCodes.GetValueOrDefault(0) == 1 && run.RankExitCodes.GetValueOrDefault(2) == 1, run.ToString());
        Assert.True(run.RankExitCodes.GetValueOrDefault(1) == 128 + 9, run.ToString());
        // A survivor that looks after the other one left names both deaths.
        Assert.Matches(@"probe: rank 0 of 3: [^\n]*rank 1 \(pid \d+\)[^\n]* died \(no such process", run.Stderr);
        Assert.Matches(@"probe: rank 2 of 3: [^\n]*rank 1 \(pid \d+\)[^\n]* died \(no such process", run.Stderr);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(40), run.ToString());    // start-up of 3 ranks included
        Assert.DoesNotContain("for the other ranks", run.Stderr);    // found dead, not timed out
        Assert.DoesNotContain("was not caught", run.Stdout);
        Assert.True(run.ExitCode == 0, run.ToString());           // what mpirun itself says, as the README warns
    }

    // The probe's watchdog limits are 3 s (idle) and 10 s (in a collective), far apart so that on a
    // loaded machine the stalled rank still names itself before its peer gives up waiting; start-up
    // and mpirun's clean-up take the rest of the allowance, well below MpiRun's 60 s kill.
    private static void AssertEndedBy(MpiRun.Result run, int exitCode, string message)
    {
        Assert.True(run.ExitCode == exitCode, run.ToString());
        Assert.Contains(message, run.Stderr);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(40), run.ToString());
        Assert.Contains("rank 0: started", run.Stdout);
        Assert.DoesNotContain("was not caught", run.Stdout);
    }
}
