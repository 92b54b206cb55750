using Dataflow.Backends.Vulkan;
using Dataflow.Engine.Backends;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;
using static Dataflow.Tests.Contracts.KernelRunner;

namespace Dataflow.Tests.Vulkan;

/// <summary>Discovery, the shader cache, compile errors, and the ordering of batched launches and copies.</summary>
public sealed class VulkanDeviceTests(VulkanFixture fixture) : IClassFixture<VulkanFixture>
{
    private readonly VulkanBackend _backend = fixture.Backend;

    [Fact]
    public void ListsDevicesWithTheirLimits()
    {
        var devices = VulkanBackend.ListDevices();
        Assert.NotEmpty(devices);
        foreach (var d in devices)
        {
            Assert.Equal("vulkan", d.Backend);
            Assert.False(string.IsNullOrWhiteSpace(d.Name));
            Assert.Contains(d.Kind, new[] { "gpu", "cpu", "other" });
            Assert.True(d.MemoryBytes > 0 && d.MaxWorkGroupSize > 0, $"{d.Name}: implausible limits");
            Assert.Contains("api version", d.Details.Keys);
        }
        Assert.Equal(devices[0].Name, _backend.Device.Name);
        // The opened device also says what compiles its shaders and how long its loops may run.
        Assert.Contains(_backend.Device.Details["shader compiler"], new[] { "libshaderc", "glslangValidator" });
        Assert.Contains("loop limit", _backend.Device.Details.Keys);
        Assert.True(_backend.LoopBudgetIterations > 0);
    }

    [Fact]
    public void AMissingDeviceIndexNamesTheDevicesThatExist()
    {
        var error = Assert.Throws<ArgumentOutOfRangeException>(() => VulkanBackend.Create(999));
        Assert.Contains(_backend.Device.Name, error.Message);
    }

    [Fact]
    public void KernelsAreCachedBySpecAndShadersBySource()
    {
        using var backend = VulkanBackend.Create();
        int shaders = backend.CompiledShaders; // the loop-limit probe's
        var iota = new OpKernelSpec(OpCode.Iota, new OpAttrs { Count = Dim.Const(17) }, [], I32(17)) { Count = 17 };
        Assert.Same(backend.Compile(iota), backend.Compile(iota with { }));
        Assert.Contains("y[i] = int(i);", Assert.IsType<VulkanKernel>(backend.Compile(iota)).Source);
        Assert.Equal((1, shaders + 1), (backend.CompiledKernels, backend.CompiledShaders));

        // Two specs whose shaders are the same text (a reshape is a copy of its elements) share one compile.
        backend.Compile(new OpKernelSpec(OpCode.Reshape, OpAttrs.None, [F32(2, 3)], F32(3, 2)));
        backend.Compile(new OpKernelSpec(OpCode.Reshape, OpAttrs.None, [F32(6)], F32(6, 1)));
        Assert.Equal((3, shaders + 2), (backend.CompiledKernels, backend.CompiledShaders));

        const string source = "#version 450\nlayout(local_size_x = 1) in;\nlayout(std430, binding = 0) buffer B0 { float y[]; };\nvoid main() { y[0] = 1.0; }\n";
        backend.CompileSource("fine", source);
        backend.CompileSource("fine again", source);
        Assert.Equal(shaders + 3, backend.CompiledShaders);
        backend.CompileSource("changed", source.Replace("1.0", "2.0"));
        Assert.Equal(shaders + 4, backend.CompiledShaders);
    }

    [Fact]
    public void BrokenSourceReportsBackendKernelAndCompilerLog()
    {
        const string source = "#version 450\nlayout(local_size_x = 1) in;\nvoid main() { undefined_thing = 1.0; }\n";
        var error = Assert.Throws<KernelCompileException>(() => _backend.CompileSource("broken", source));
        Assert.Equal("vulkan", error.Backend);
        Assert.Equal("broken", error.Kernel);
        Assert.Contains("undefined_thing", error.Log);
        Assert.Contains("vulkan: kernel broken failed to compile", error.Message);
        // Failures are not cached: the same text fails again, with its log.
        Assert.Throws<KernelCompileException>(() => _backend.CompileSource("broken", source));
    }

    [Fact]
    public void LaunchesRunInEnqueueOrderAndCopiesSeeEveryEarlierLaunch()
    {
        using var backend = VulkanBackend.Create();
        const int n = 1000;
        var iota = backend.Compile(new OpKernelSpec(OpCode.Iota, new OpAttrs { Count = Dim.Const(n) }, [], I32(n)) { Count = n });
        var twiceOfInts = backend.Compile(Scale(n, 2f, DType.I32));
        var twice = backend.Compile(Scale(n, 2f, DType.F32));
        var plusOne = backend.Compile(new FusedElementwiseSpec([F32(n)], [n],
            [FusedInstruction.Load(0), FusedInstruction.Const(1f), FusedInstruction.Binary(OpCode.Add, 0, 1)], [2], [DType.F32]));
        using var a = backend.Allocate(n);
        using var b = backend.Allocate(n);
        long before = backend.Submissions;
        // a = iota; b = 2a; a = b + 1; b = 2a: each launch reads what the one before wrote.
        backend.Enqueue(iota, [a], LaunchParams.None);
        backend.Enqueue(twiceOfInts, [a, b], LaunchParams.None);
        backend.Enqueue(plusOne, [b, a], LaunchParams.None);
        backend.Enqueue(twice, [a, b], LaunchParams.None);
        Assert.Equal(before, backend.Submissions); // recorded, not yet submitted
        var result = new float[n];
        backend.Download(b, result);
        Assert.Equal(before + 1, backend.Submissions); // one batch for all four
        Assert.Equal(Enumerable.Range(0, n).Select(i => 2f * (2 * i + 1)), result);

        // An upload waits for the recorded launches that read the buffer: the first copy sees the old values.
        using var c = backend.Allocate(n);
        var scale = backend.Compile(Scale(n, 3f, DType.F32));
        backend.Upload(a, Enumerable.Repeat(1f, n).ToArray());
        backend.Enqueue(scale, [a, b], LaunchParams.None);
        backend.Upload(a, Enumerable.Repeat(5f, n).ToArray());
        backend.Enqueue(scale, [a, c], LaunchParams.None);
        backend.Download(b, result);
        Assert.All(result, v => Assert.Equal(3f, v));
        backend.Download(c, result);
        Assert.All(result, v => Assert.Equal(15f, v));
    }

    [Fact]
    public void ABufferDisposedWhileALaunchUsesItLivesUntilTheBatchRuns()
    {
        const int n = 300;
        var scale = _backend.Compile(Scale(n, 2f, DType.F32));
        var x = _backend.Allocate(n);
        using var y = _backend.Allocate(n);
        _backend.Upload(x, Enumerable.Range(0, n).Select(i => (float)i).ToArray());
        _backend.Enqueue(scale, [x, y], LaunchParams.None);
        x.Dispose();
        Assert.Throws<ObjectDisposedException>(() => _backend.Enqueue(scale, [x, y], LaunchParams.None));
        _backend.Wait();
        var result = new float[n];
        _backend.Download(y, result);
        Assert.Equal(Enumerable.Range(0, n).Select(i => 2f * i), result);
    }

    /// <summary>y = x * factor, reading x as <paramref name="input"/>.</summary>
    private static FusedElementwiseSpec Scale(int n, float factor, DType input) =>
        new([new TensorDesc(input, [n])], [n],
            [FusedInstruction.Load(0), FusedInstruction.Const(factor), FusedInstruction.Binary(OpCode.Mul, 0, 1)], [2], [DType.F32]);
}
