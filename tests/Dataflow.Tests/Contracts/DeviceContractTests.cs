using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Contracts;

/// <summary>What every backend's buffers, support rule and launches promise, written once.</summary>
public sealed class DeviceContractTests(DeviceBackends backends) : IClassFixture<DeviceBackends>
{
    public static TheoryData<string> All => DeviceBackends.Each(DeviceBackends.All);
    public static TheoryData<string> Devices => DeviceBackends.Each(DeviceBackends.Devices);

    [Theory]
    [MemberData(nameof(All))]
    public void BuffersStartZeroAndCopyWithOffsets(string name)
    {
        var backend = backends[name];
        using var buffer = backend.Allocate(130);
        var zeros = new float[130];
        backend.Download(buffer, zeros);
        Assert.All(zeros, v => Assert.Equal(0f, v));

        backend.Upload(buffer, new[] { 1f, 2f, 3f }, offset: 65);
        backend.Upload(buffer, new[] { -7, 9 }, offset: 128);
        var part = new float[5];
        backend.Download(buffer, part, offset: 64);
        Assert.Equal(new[] { 0f, 1f, 2f, 3f, 0f }, part);
        var ints = new int[2];
        backend.Download(buffer, ints, offset: 128);
        Assert.Equal(new[] { -7, 9 }, ints);

        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Upload(buffer, new float[3], offset: 128));
        using var empty = backend.Allocate(0);
        backend.Download(empty, Span<float>.Empty);
    }

    /// <summary>The generated-source backends' one support rule: by op kind, elementwise ops only fused.</summary>
    [Theory]
    [MemberData(nameof(Devices))]
    public void NonFusedElementwiseAndLeavesFedByTheEngineAreRefused(string name)
    {
        var backend = backends[name];
        var add = new OpKernelSpec(OpCode.Add, OpAttrs.None, [F32(3), F32(3)], F32(3));
        var input = new OpKernelSpec(OpCode.Input, OpAttrs.None, [], F32(3));
        Assert.False(backend.SupportsOp(add).IsSupported);
        Assert.Contains("fused", backend.SupportsOp(add).Reason);
        Assert.False(backend.SupportsOp(input).IsSupported);
        Assert.Throws<NotSupportedException>(() => backend.Compile(add));
        // Everything else in the catalog has a kernel.
        foreach (OpCode op in Enum.GetValues<OpCode>())
        {
            if (op is OpCode.Input or OpCode.Parameter || OpCatalog.Get(op).Kind == OpKind.Elementwise) continue;
            Assert.True(backend.SupportsOp(new OpKernelSpec(op, OpAttrs.None, [], F32(1))).IsSupported, $"{op} is not supported");
        }
    }

    [Theory]
    [MemberData(nameof(All))]
    public void LaunchesRejectForeignAndShortBuffers(string name)
    {
        var backend = backends[name];
        var kernel = backend.Compile(new OpKernelSpec(OpCode.Iota, new OpAttrs { Count = Dim.Const(17) }, [], I32(17)) { Count = 17 });
        using var small = backend.Allocate(16);
        Assert.Throws<ArgumentException>(() => backend.Enqueue(kernel, [small], LaunchParams.None));
        using var other = new NullBackend();
        using var foreign = other.Allocate(17);
        var refused = Assert.Throws<ArgumentException>(() => backend.Enqueue(kernel, [foreign], LaunchParams.None));
        Assert.Contains($"{name}: kernel {kernel.Spec.DisplayName}: buffer 0 does not belong to this {name} backend", refused.Message);
    }

    /// <summary>The launch checks every backend shares: each refusal names the backend, and a good launch still runs after them.</summary>
    [Theory]
    [MemberData(nameof(All))]
    public void LaunchesRejectAWrongBufferCountADisposedBufferAndAnotherBackendsKernel(string name)
    {
        var backend = backends[name];
        var spec = new OpKernelSpec(OpCode.Iota, new OpAttrs { Count = Dim.Const(17) }, [], I32(17)) { Count = 17 };
        var kernel = backend.Compile(spec);
        using var output = backend.Allocate(17);
        using var extra = backend.Allocate(17);

        var tooMany = Assert.Throws<ArgumentException>(() => backend.Enqueue(kernel, [output, extra], LaunchParams.None));
        Assert.Contains($"{name}: kernel {spec.DisplayName} takes 1 buffers, got 2", tooMany.Message);
        Assert.Throws<ArgumentException>(() => backend.Enqueue(kernel, [], LaunchParams.None));

        var disposed = backend.Allocate(17);
        disposed.Dispose();
        var gone = Assert.Throws<ObjectDisposedException>(() => backend.Enqueue(kernel, [disposed], LaunchParams.None));
        Assert.Contains($"{name}: kernel {spec.DisplayName}: buffer 0 was disposed", gone.Message);

        using var other = new NullBackend();
        var foreign = Assert.Throws<ArgumentException>(() => backend.Enqueue(other.Compile(spec), [output], LaunchParams.None));
        Assert.Contains($"{name}: kernel {spec.DisplayName} was not compiled by this {name} backend", foreign.Message);

        backend.Enqueue(kernel, [output], LaunchParams.None);
        backend.Wait();
        var values = new int[17];
        backend.Download(output, values);
        Assert.Equal(Enumerable.Range(0, 17), values);
    }
}
