using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.Cpu.CpuHarness;

namespace Dataflow.Tests.Cpu;

public class CpuBackendTests
{
    [Fact]
    public void CompileCachesByKey()
    {
        var a = new OpKernelSpec(OpCode.MatMul, OpAttrs.None, [F32(3, 4), F32(4, 5)], F32(3, 5));
        var b = new OpKernelSpec(OpCode.MatMul, OpAttrs.None, [F32(3, 4), F32(4, 5)], F32(3, 5));
        var c = new OpKernelSpec(OpCode.MatMul, new OpAttrs { TransposeB = true }, [F32(3, 4), F32(5, 4)], F32(3, 5));
        Assert.Same(Backend.Compile(a), Backend.Compile(b));
        Assert.NotSame(Backend.Compile(a), Backend.Compile(c));
    }

    [Fact]
    public void ElementwiseAndFedOpsAreNotKernels()
    {
        var add = new OpKernelSpec(OpCode.Add, OpAttrs.None, [F32(3), F32(3)], F32(3));
        var support = Backend.SupportsOp(add);
        Assert.False(support.IsSupported);
        Assert.Contains("fused", support.Reason);
        Assert.False(Backend.SupportsOp(new OpKernelSpec(OpCode.Input, OpAttrs.None, [], F32(3))).IsSupported);
        Assert.Throws<NotSupportedException>(() => Backend.Compile(add));
        foreach (OpCode op in Enum.GetValues<OpCode>())
            if (OpCatalog.Get(op).Kind != OpKind.Elementwise && op is not (OpCode.Input or OpCode.Parameter))
                Assert.True(Backend.SupportsOp(new OpKernelSpec(op, OpAttrs.None, [], F32(1))).IsSupported, op.ToString());
    }

    [Fact]
    public void WrongBuffersNameKernelAndIndex()
    {
        var kernel = Backend.Compile(new OpKernelSpec(OpCode.MatMul, OpAttrs.None, [F32(3, 4), F32(4, 5)], F32(3, 5)));
        using var a = Backend.Allocate(12);
        using var b = Backend.Allocate(20);
        using var small = Backend.Allocate(14);
        var count = Assert.Throws<ArgumentException>(() => Backend.Enqueue(kernel, new IDeviceBuffer[] { a, b }, LaunchParams.None));
        Assert.Contains("matmul", count.Message);
        var size = Assert.Throws<ArgumentException>(() => Backend.Enqueue(kernel, new IDeviceBuffer[] { a, b, small }, LaunchParams.None));
        Assert.Contains("matmul", size.Message);
        Assert.Contains("buffer 2", size.Message);
    }

    [Fact]
    public void BuffersStartZeroedAndRoundTripBothTypes()
    {
        using var buffer = Backend.Allocate(10);
        var zeros = new float[10];
        Backend.Download(buffer, zeros);
        Assert.All(zeros, v => Assert.Equal(0f, v));
        Backend.Upload(buffer, new[] { 7, -8, int.MaxValue }, offset: 2);
        var ints = new int[3];
        Backend.Download(buffer, ints, offset: 2);
        Assert.Equal(new[] { 7, -8, int.MaxValue }, ints);
        Backend.Upload(buffer, new[] { 1.5f }, offset: 9);
        var one = new float[1];
        Backend.Download(buffer, one, offset: 9);
        Assert.Equal(1.5f, one[0]);
        Assert.Throws<ArgumentOutOfRangeException>(() => Backend.Upload(buffer, new float[3], offset: 8));
    }

    [Fact]
    public void DeviceDescribesTheHost()
    {
        var device = Backend.Device;
        Assert.Equal("cpu", device.Backend);
        Assert.False(string.IsNullOrWhiteSpace(device.Name));
        Assert.Equal(Environment.ProcessorCount, device.ComputeUnits);
        Assert.True(device.MemoryBytes > 0);
        Assert.Equal("cpu", Backend.Name);
    }

    [Fact]
    public void SgdWithoutMomentumAcceptsTwoBuffers()
    {
        var kernel = Backend.Compile(new OptimizerStepSpec(OptimizerKind.Sgd, 4));
        using var p = Backend.Allocate(4);
        using var g = Backend.Allocate(4);
        Backend.Enqueue(kernel, new IDeviceBuffer[] { p, g }, new LaunchParams(0, new float[OptimizerScalars.Count]));
        var adam = Backend.Compile(new OptimizerStepSpec(OptimizerKind.Adam, 4));
        Assert.Throws<ArgumentException>(() => Backend.Enqueue(adam, new IDeviceBuffer[] { p, g }, new LaunchParams(0, new float[OptimizerScalars.Count])));
    }

    [Fact]
    public void BenchmarkReportsThroughput()
    {
        Assert.True(Dataflow.Backends.Cpu.CpuMatMulBenchmark.Run(32, 32, 32, minSeconds: 0.01) > 0);
    }
}
