using Dataflow.Backends.OpenCL;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.OpenCL;

/// <summary>Discovery, the compile cache and compile errors.</summary>
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
    public void DeviceKindPicksTheMatMulPlan()
    {
        var spec = new OpKernelSpec(OpCode.MatMul, new OpAttrs(), [F32(128, 784), F32(784, 512)], F32(128, 512));
        var source = ((OpenClKernel)fixture.Backend.Compile(spec)).Source;
        // A CPU driver runs a group as a loop on one thread: barriers there only cost, so its kernels have none.
        bool cpu = fixture.Backend.Device.Kind == "cpu";
        Assert.Equal(!cpu, source.Contains("barrier("));
        Assert.Equal(cpu, source.Contains("vload8"));
        Assert.Same(cpu ? KernelPlan.Cpu : KernelPlan.Gpu, KernelPlan.For(fixture.Backend.Device.Kind));
    }
}
