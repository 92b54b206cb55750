using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.OpenCL;

/// <summary>The null backend runs the engine's compile and frame schedules with no device behind them.</summary>
public sealed class NullBackendTests
{
    private static readonly Dictionary<string, long> Batch4 = new() { ["B"] = 4 };

    /// <summary>Six tanh(h @ W) layers: each intermediate dies once the next layer has read it.</summary>
    private static ComputeGraph Chain()
    {
        var graph = new ComputeGraph("chain");
        var b = new GraphBuilder(graph);
        var h = b.Input("x", TensorType.F32(Dim.Symbol("B"), 8));
        for (int i = 0; i < 6; i++)
            h = b.Tanh(b.MatMul(h, b.Parameter($"w{i}", Shape.Of(8, 8), ParamInit.Xavier)));
        graph.SetOutput("y", h);
        return graph;
    }

    [Fact]
    public void OneLaunchPerKernelPerRun()
    {
        var backend = new NullBackend();
        using var session = new Session(backend, seed: 1);
        var compiled = session.Compile(StepGraph.ForwardOnly(Chain()), Batch4);
        Assert.Equal(12, compiled.KernelCount); // a matmul and a fused tanh per layer
        Assert.Equal(0, backend.Launches);

        var inputs = new Dictionary<string, Array> { ["x"] = TestGraphs.RandomValues(1, 32) };
        var results = session.Run(compiled, inputs).Results["y"];
        Assert.Equal(compiled.KernelCount, backend.Launches);
        Assert.Equal(32, results.Length);
        Assert.All(results, v => Assert.Equal(0f, v)); // nothing ran, so nothing but zeros comes back

        session.Run(compiled, inputs);
        Assert.Equal(2 * compiled.KernelCount, backend.Launches);
        Assert.Equal(2, backend.CompiledKernels); // the six layers share two specs, compiled once each
    }

    [Fact]
    public void MemoryPlanningReusesBuffers()
    {
        long Allocated(CompileOptions options)
        {
            var backend = new NullBackend();
            using var session = new Session(backend, seed: 1, options);
            session.DeclareParameters(Chain());
            long before = backend.AllocatedElements; // parameters are the same either way
            session.Compile(StepGraph.ForwardOnly(Chain()), Batch4);
            return backend.AllocatedElements - before;
        }

        long planned = Allocated(new CompileOptions());
        long unplanned = Allocated(new CompileOptions { ReuseBuffers = false });
        Assert.True(planned < unplanned, $"planned {planned} elements, unplanned {unplanned}");
        // Input and output (4x8 each) plus two transient slots that the eleven intermediates take turns in.
        Assert.True(planned <= 4 * 4 * 8, $"a chain needs two live transient buffers, planned {planned} elements");
    }

    [Fact]
    public void RefusesWhatNoBackendRuns()
    {
        var backend = new NullBackend();
        var add = new OpKernelSpec(OpCode.Add, OpAttrs.None, [new TensorDesc(DType.F32, [3]), new TensorDesc(DType.F32, [3])], new TensorDesc(DType.F32, [3]));
        Assert.False(backend.SupportsOp(add).IsSupported);
        Assert.Throws<NotSupportedException>(() => backend.Compile(add));
    }

    [Fact]
    public void CountsAllocationsAndReleases()
    {
        var backend = new NullBackend();
        var a = backend.Allocate(100);
        using var b = backend.Allocate(30);
        Assert.Equal(2, backend.Allocations);
        Assert.Equal(130, backend.LiveElements);
        a.Dispose();
        a.Dispose();
        Assert.Equal(30, backend.LiveElements);
        Assert.Equal(130, backend.AllocatedElements);
        Assert.Throws<ArgumentOutOfRangeException>(() => backend.Upload(b, new float[31]));
    }
}
