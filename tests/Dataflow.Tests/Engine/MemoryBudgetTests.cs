using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;

namespace Dataflow.Tests.Engine;

/// <summary>A run that cannot fit is refused up front with the bytes needed and available, not as an internal error mid-allocation.</summary>
public sealed class MemoryBudgetTests
{
    [Fact]
    public void NeedsAreComparedWithWhatTheDeviceHas()
    {
        MemoryBudget.Require(1024, 2048, "x");
        var error = Assert.Throws<DeviceMemoryException>(() => MemoryBudget.Require(3L << 40, 128L << 30, "training"));
        Assert.Equal("training: 3.0 TiB needed, but 128.0 GiB is available; use a smaller batch, sequence length or model", error.Message);
        Assert.Throws<DeviceMemoryException>(() => MemoryBudget.Bytes(long.MaxValue / 2, "a buffer"));
    }

    [Fact]
    public void AHugeBatchIsRefusedWhenTheGraphIsCompiled()
    {
        var graph = TestGraphs.Classifier(features: 784, classes: 10);
        using var session = TestGraphs.SessionWith(graph, new Dictionary<string, float[]>());
        var error = Assert.Throws<DeviceMemoryException>(() =>
            session.Compile(StepGraph.ForTraining(graph, withGradNorm: false), new Dictionary<string, long> { ["B"] = int.MaxValue }));
        Assert.StartsWith("the buffers of this graph on cpu", error.Message);
        Assert.Contains("GiB is available", error.Message);
    }

    [Fact]
    public void TheCpuBackendRefusesAnOversizedBufferAsAUserError()
    {
        using var backend = new CpuBackend();
        Assert.Throws<DeviceMemoryException>(() => backend.Allocate((long)Array.MaxLength + 1));
    }
}
