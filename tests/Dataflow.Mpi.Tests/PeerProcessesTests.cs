using System.Diagnostics;

namespace Dataflow.Mpi.Tests;

public class PeerProcessesTests
{
    [Fact]
    public void APeerOnThisMachineWhoseProcessEndedIsNamedAndLivePeersAreNot()
    {
        using var ended = Process.Start("true")!;
        using var alsoEnded = Process.Start("true")!;
        ended.WaitForExit();
        alsoEnded.WaitForExit();
        long here = PeerProcesses.ThisMachine();
        Assert.NotEqual(0, here);
        var alive = new PeerProcesses(0, [here, here], [Environment.ProcessId, Environment.ProcessId]);
        Assert.Null(alive.Dead());

        var peers = new PeerProcesses(0, [here, here, here], [Environment.ProcessId, Environment.ProcessId, ended.Id]);
        Assert.Equal($"rank 2 (pid {ended.Id}) has died", peers.Dead());
        var two = new PeerProcesses(1, [here, here, here], [alsoEnded.Id, Environment.ProcessId, ended.Id]);
        Assert.Equal($"rank 0 (pid {alsoEnded.Id}) and rank 2 (pid {ended.Id}) have died", two.Dead());
    }

    [Fact]
    public void PeersOnOtherMachinesOrUnknownOnesAreNeverJudged()
    {
        long here = PeerProcesses.ThisMachine();
        // pid 0 is no process's, so a peer judged by it would look dead.
        var peers = new PeerProcesses(1, [here + 1, here, 0], [0, Environment.ProcessId, 0]);
        Assert.Empty(peers.LocalPeers);
        Assert.Null(peers.Dead());
    }

    [Fact]
    public void OneProcessExchangesWithItselfAndHasNoPeers()
    {
        using var world = new SingleProcessCommunicator();
        var peers = PeerProcesses.Exchange(world);
        Assert.Empty(peers.LocalPeers);
        Assert.Null(peers.Dead());
    }
}
