using Dataflow.Backends.OpenCL;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.OpenCL.OpenClFixture;

namespace Dataflow.Tests.OpenCL;

/// <summary>Discovery, buffers, the compile cache and compile errors.</summary>
public sealed class OpenClDeviceTests(OpenClFixture fixture) : IClassFixture<OpenClFixture>
{
    private readonly OpenClBackend _backend = fixture.Backend;

    [Fact]
    public void ListsDevicesWithTheirLimits()
    {
        var devices = OpenClBackend.ListDevices();
        Assert.NotEmpty(devices);
        foreach (var d in devices)
        {
            Assert.Equal("opencl", d.Backend);
            Assert.False(string.IsNullOrWhiteSpace(d.Name));
            Assert.Contains(d.Kind, new[] { "gpu", "cpu", "accelerator", "other" });
            Assert.True(d.MemoryBytes > 0 && d.ComputeUnits > 0 && d.MaxWorkGroupSize > 0, $"{d.Name}: implausible limits");
            Assert.Contains("platform", d.Details.Keys);
        }
        // GPUs are listed first, so device 0 is a GPU whenever there is one.
        Assert.Equal(devices.OrderBy(d => d.Kind == "gpu" ? 0 : d.Kind == "accelerator" ? 1 : 2).Select(d => d.Name), devices.Select(d => d.Name));
        Assert.Equal(devices[0].Name, _backend.Device.Name);
    }

    [Fact]
    public void AMissingDeviceIndexNamesTheDevicesThatExist()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => OpenClBackend.Create(999));
        Assert.Contains(_backend.Device.Name, error.Message);
    }

    [Fact]
    public void BuffersStartZeroAndCopyWithOffsets()
    {
        using var buffer = _backend.Allocate(130);
        var zeros = new float[130];
        _backend.Download(buffer, zeros);
        Assert.All(zeros, v => Assert.Equal(0f, v));

        _backend.Upload(buffer, new[] { 1f, 2f, 3f }, offset: 65);
        _backend.Upload(buffer, new[] { -7, 9 }, offset: 128);
        var part = new float[5];
        _backend.Download(buffer, part, offset: 64);
        Assert.Equal(new[] { 0f, 1f, 2f, 3f, 0f }, part);
        var ints = new int[2];
        _backend.Download(buffer, ints, offset: 128);
        Assert.Equal(new[] { -7, 9 }, ints);

        Assert.Throws<ArgumentOutOfRangeException>(() => _backend.Upload(buffer, new float[3], offset: 128));
        using var empty = _backend.Allocate(0);
        _backend.Download(empty, Span<float>.Empty);
    }

    [Fact]
    public void CompileIsCachedBySpec()
    {
        var spec = new OpKernelSpec(OpCode.Iota, new OpAttrs { Count = Dim.Const(17) }, [], I32(17)) { Count = 17 };
        var again = spec with { };
        Assert.Same(_backend.Compile(spec), _backend.Compile(again));
        var kernel = Assert.IsType<OpenClKernel>(_backend.Compile(spec));
        Assert.Contains("__kernel void iota", kernel.Source);
    }

    [Fact]
    public void BrokenSourceReportsBackendKernelAndCompilerLog()
    {
        const string source = "__kernel void broken(__global float* x) { x[0] = undefined_thing + 1.0f; }";
        var error = Assert.Throws<KernelCompileException>(() => _backend.CompileSource("broken", source));
        Assert.Equal("opencl", error.Backend);
        Assert.Equal("broken", error.Kernel);
        Assert.Contains("undefined_thing", error.Log);
        Assert.Contains("opencl: kernel broken failed to compile", error.Message);
    }

    [Fact]
    public void GoodSourceBuilds()
    {
        _backend.CompileSource("fine", "__kernel void fine(__global float* x) { x[get_global_id(0)] = 1.0f; }");
    }

    [Fact]
    public void NonFusedElementwiseAndLeavesFedByTheEngineAreRefused()
    {
        var add = new OpKernelSpec(OpCode.Add, OpAttrs.None, [F32(3), F32(3)], F32(3));
        var input = new OpKernelSpec(OpCode.Input, OpAttrs.None, [], F32(3));
        Assert.False(_backend.SupportsOp(add).IsSupported);
        Assert.Contains("fused", _backend.SupportsOp(add).Reason);
        Assert.False(_backend.SupportsOp(input).IsSupported);
        Assert.Throws<NotSupportedException>(() => _backend.Compile(add));
        // Everything else in the catalog has a kernel.
        foreach (OpCode op in Enum.GetValues<OpCode>())
        {
            if (op is OpCode.Input or OpCode.Parameter || OpCatalog.Get(op).Kind == OpKind.Elementwise) continue;
            Assert.True(_backend.SupportsOp(new OpKernelSpec(op, OpAttrs.None, [], F32(1))).IsSupported, $"{op} is not supported");
        }
    }

    [Fact]
    public void LaunchesRejectForeignAndShortBuffers()
    {
        var spec = new OpKernelSpec(OpCode.Iota, new OpAttrs { Count = Dim.Const(17) }, [], I32(17)) { Count = 17 };
        var kernel = _backend.Compile(spec);
        using var small = _backend.Allocate(16);
        Assert.Throws<ArgumentException>(() => _backend.Enqueue(kernel, [small], LaunchParams.None));
        using var foreign = fixture.Cpu.Allocate(17);
        Assert.Throws<ArgumentException>(() => _backend.Enqueue(kernel, [foreign], LaunchParams.None));
    }
}
