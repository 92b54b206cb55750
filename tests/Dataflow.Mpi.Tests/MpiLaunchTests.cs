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
            Assert.Contains($"rank {rank} of {ranks}: collectives ok; bucketer reduced 9716 bytes in 40 buckets", run.Stdout);
    }

    [Fact]
    public void ARankThatStallsNamesItselfAndEndsTheRunWithExit1()
    {
        var run = MpiRun.Probe(2, "stall-idle");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("probe: rank 1 of 2: stalled", run.Stderr);
        // The idle limit is 3 s; start-up and mpirun's clean-up take the rest.
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(40), run.ToString());
        Assert.DoesNotContain("was not caught", run.Stdout);
    }

    [Fact]
    public void AFrozenRankIsCaughtByItsPeerWaitingInTheCollective()
    {
        var run = MpiRun.Probe(2, "stall-stopped");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("probe: rank 0 of 2: all-reduce (Sum) of 8 floats (collective #2) waited", run.Stderr);
        Assert.True(run.Elapsed < TimeSpan.FromSeconds(40), run.ToString());
        Assert.DoesNotContain("was not caught", run.Stdout);
    }

    [Fact]
    public void ARankThatExitsWithAnErrorEndsTheOthersWithExit1()
    {
        var run = MpiRun.Probe(2, "exit-early");
        Assert.True(run.ExitCode == 1, run.ToString());
        Assert.Contains("rank 1 fails on purpose", run.Stderr);
        Assert.DoesNotContain("was not caught", run.Stdout);
    }

    [Fact]
    public void AKilledRankEndsTheOthersAndMpirunNamesIt()
    {
        var run = MpiRun.Probe(2, "killed");
        // mpirun reports a rank killed by a signal as 128 + the signal, and names the rank.
        Assert.True(run.ExitCode == 128 + 9, run.ToString());
        Assert.Contains("process rank 1", run.Stderr);
        Assert.Contains("signal 9", run.Stderr);
        Assert.DoesNotContain("was not caught", run.Stdout);
    }
}
