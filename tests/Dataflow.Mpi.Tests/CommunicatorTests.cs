namespace Dataflow.Mpi.Tests;

public class CommunicatorTests
{
    [Theory]
    [InlineData("OMPI_COMM_WORLD_SIZE", "2")]
    [InlineData("PMIX_RANK", "0")]
    [InlineData("PMI_RANK", "3")]
    public void ALauncherVariableMeansMpi(string name, string value)
    {
        var environment = new Dictionary<string, string> { [name] = value };
        Assert.True(Communicator.IsLaunchedUnderMpi(n => environment.GetValueOrDefault(n)));
    }

    [Fact]
    public void NoLauncherVariableMeansOneProcess()
    {
        var environment = new Dictionary<string, string> { ["PATH"] = "/usr/bin", ["OMPI_COMM_WORLD_SIZE"] = "" };
        Assert.False(Communicator.IsLaunchedUnderMpi(n => environment.GetValueOrDefault(n)));
    }

    [Fact]
    public void AMissingLibraryIsAnUnavailableErrorThatSaysWhatToInstall()
    {
        var error = Assert.Throws<MpiUnavailableException>(() => MpiLibrary.Load(["libmpi-absent.so.99"]));
        Assert.Contains("libmpi-absent.so.99", error.Message);
        Assert.Contains("tools/setup", error.Message);
    }

    [Fact]
    public void TheInstalledLibraryExportsEveryCallAndHandle()
    {
        // tools/setup installs libopenmpi3; loading resolves every symbol without initialising MPI.
        var mpi = MpiLibrary.Load(["libmpi.so.40"]);
        Assert.Equal("libmpi.so.40", mpi.Path);
        Assert.NotEqual(0, mpi.CommWorld);
        Assert.NotEqual(mpi.OpMax, mpi.OpSum);
    }

    [Fact]
    public void TheSingleProcessWorldIsTheIdentity()
    {
        using var world = new SingleProcessCommunicator();
        float[] data = [1f, -2f];
        world.AllReduce(data, ReduceOp.Sum);
        world.Broadcast(data, 0);
        var gathered = new float[2];
        world.AllGatherV(data, gathered, [2]);
        Assert.Equal([1f, -2f], data);
        Assert.Equal(data, gathered);
    }

    [Fact]
    public void MisshapenCollectivesAreRefusedWithTheirNumbers()
    {
        using var world = new SingleProcessCommunicator();
        var root = Assert.Throws<CommunicatorUsageException>(() => world.Broadcast(new byte[1], 1));
        Assert.Contains("root 1", root.Message);
        var gather = Assert.Throws<CommunicatorUsageException>(() => world.AllGather(new float[3], new float[2]));
        Assert.Contains("needs a receive buffer of 3, not 2", gather.Message);
        var counts = Assert.Throws<CommunicatorUsageException>(() => world.AllGatherV(new float[3], new float[3], [2]));
        Assert.Contains("rank 0 sends 3 values but its count says 2", counts.Message);
    }
}
