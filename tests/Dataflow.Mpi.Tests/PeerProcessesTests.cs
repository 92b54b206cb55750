using System.Diagnostics;

namespace Dataflow.Mpi.Tests;

public class PeerProcessesTests
{
    [Fact]
    public void APeerOnThisMachineWhoseProcessEndedIsNamedAndLivePeersAreNot()
    {
        using var ended = Process.Start("true")!;
        ended.WaitForExit();
        long here = PeerProcesses.ThisMachine();
        Assert.NotEqual(0, here);
        var alive = new PeerProcesses(0, [here, here], [Environment.ProcessId, Environment.ProcessId]);
        Assert.Null(alive.FirstDead());

        var peers = new PeerProcesses(0, [here, here, here], [Environment.ProcessId, Environment.ProcessId, ended.Id]);
        Assert.Equal("rank 2 (pid " + ended.Id + ")", peers.FirstDead());
    }

    [Fact]
    public void PeersOnOtherMachinesOrUnknownOnesAreNeverJudged()
    {
        long here = PeerProcesses.ThisMachine();
        // pid 0 is no process's, so a peer judged by it would look dead.
        var peers = new PeerProcesses(1, [here + 1, here, 0], [0, Environment.ProcessId, 0]);
        Assert.Empty(peers.LocalPeers);
        Assert.Null(peers.FirstDead());
    }

    [Fact]
    public void OneProcessExchangesWithItselfAndHasNoPeers()
    {
        using var world = new SingleProcessCommunicator();
        var peers = PeerProcesses.Exchange(world);
        Assert.Empty(peers.LocalPeers);
        Assert.Null(peers.FirstDead());
    }
}
