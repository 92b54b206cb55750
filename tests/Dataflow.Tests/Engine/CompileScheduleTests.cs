using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Ops;
using Dataflow.Graph.Tensors;

namespace Dataflow.Tests.Engine;

/// <summary>Pins what the compile schedule makes of small graphs: kernel counts, fusion, buffers.</summary>
public sealed class CompileScheduleTests
{
    private static readonly Dictionary<string, long> Batch4 = new() { ["B"] = 4 };

    /// <summary>sigmoid(x @ W + b) as primitives: a matmul and one elementwise chain.</summary>
    private static (ComputeGraph Graph, Node Output) SigmoidLayer()
    {
        var graph = new ComputeGraph("layer");
        var b = new GraphBuilder(graph);
        var x = b.Input("x", TensorType.F32(Dim.Symbol("B"), 3));
        var w = b.Parameter("w", Shape.Of(3, 5), ParamInit.Xavier);
        var bias = b.Parameter("b", Shape.Of(5), ParamInit.Zeros);
        var z = b.Add(b.MatMul(x, w), bias);
        var y = b.Recip(b.Add(b.Scalar(1), b.Exp(b.Neg(z))));
        graph.SetOutput("y", y);
        return (graph, y);
    }

    [Fact]
    public void ElementwiseChainFusesIntoOneKernel()
    {
        var (graph, _) = SigmoidLayer();
        using var session = new Session(new CpuBackend(), seed: 1);
        var compiled = session.Compile(StepGraph.ForwardOnly(graph), Batch4);
        Assert.Equal(2, compiled.KernelCount);
        var fused = compiled.World.Spec(compiled.World.Get<KernelInfo>(compiled.Kernels[1]));
        var spec = Assert.IsType<FusedElementwiseSpec>(fused);
        Assert.Equal([OpCode.Add, OpCode.Neg, OpCode.Exp, OpCode.Add, OpCode.Recip],
            spec.Program.Where(i => i.Op == FusedOp.Compute).Select(i => i.Code));
    }

    [Fact]
    public void FusionOffGivesOneKernelPerOp()
    {
        var (graph, _) = SigmoidLayer();
        using var session = new Session(new CpuBackend(), seed: 1, new CompileOptions { Fusion = false });
        var compiled = session.Compile(StepGraph.ForwardOnly(graph), Batch4);
        Assert.Equal(6, compiled.KernelCount);
    }

    [Fact]
    public void FusedAndUnfusedAgree()
    {
        var (graph, _) = SigmoidLayer();
        var input = TestGraphs.RandomValues(3, 12);
        float[] Run(bool fusion)
        {
            using var session = new Session(new CpuBackend(), seed: 7, new CompileOptions { Fusion = fusion });
            var compiled = session.Compile(StepGraph.ForwardOnly(graph), Batch4);
            return session.Run(compiled, new Dictionary<string, Array> { ["x"] = input }).Results["y"];
        }
        Assert.Equal(Run(fusion: false), Run(fusion: true));
    }

    /// <summary>gelu(x @ W + b) with a mean loss: gelu reads its input four times, and autodiff reads its intermediates.</summary>
    private static ComputeGraph GeluLayer()
    {
        var graph = new ComputeGraph("gelu");
        var b = new GraphBuilder(graph);
        var x = b.Input("x", TensorType.F32(Dim.Symbol("B"), 3));
        var w = b.Parameter("w", Shape.Of(3, 5), ParamInit.Xavier);
        var bias = b.Parameter("b", Shape.Of(5), ParamInit.Xavier);
        var y = Dataflow.Graph.Dsl.Layers.Activations.Gelu(b, b.Add(b.MatMul(x, w), bias));
        graph.SetOutput("y", y);
        graph.Loss = b.ReduceMean(b.Mul(y, y), [0, 1]);
        return graph;
    }

    /// <summary>
    /// The CPU backend without its gelu pattern kernels: the gelu tests here are about the elementwise fusion,
    /// which the CPU backend otherwise hands the chain to (GeluFusionTests cover those kernels).
    /// </summary>
    private sealed class WithoutGeluKernels(CpuBackend inner) : ForwardingBackend(inner)
    {
        public override Dataflow.Engine.Backends.Support SupportsOp(KernelSpec spec) =>
            spec is GeluSpec or GeluBackwardSpec ? Dataflow.Engine.Backends.Support.No("gelu pattern kernels declined") : base.SupportsOp(spec);
    }

    private static CompiledProgram CompileGelu(Session session, bool training) =>
        session.Compile(training ? StepGraph.ForTraining(GeluLayer(), withGradNorm: false).WithGradientOutputs() : StepGraph.ForwardOnly(GeluLayer(), includeLoss: false), Batch4);

    [Fact]
    public void ValueReadSeveralTimesInOneChainFusesIntoIt()
    {
        // Inference: the bias add and all of gelu are one kernel after the matmul.
        using var session = new Session(new WithoutGeluKernels(new CpuBackend()), seed: 1);
        var compiled = CompileGelu(session, training: false);
        Assert.True(2 == compiled.KernelCount, compiled.Describe(withTimings: false));
        using var tree = new Session(new WithoutGeluKernels(new CpuBackend()), seed: 1, new CompileOptions { MultiOutputFusion = false });
        Assert.True(CompileGelu(tree, training: false).KernelCount > 2);
    }

    [Fact]
    public void ForwardIntermediatesTheBackwardReadsBecomeExtraOutputs()
    {
        using var session = new Session(new WithoutGeluKernels(new CpuBackend()), seed: 1);
        var multi = CompileGelu(session, training: true);
        using var treeSession = new Session(new WithoutGeluKernels(new CpuBackend()), seed: 1, new CompileOptions { MultiOutputFusion = false });
        var tree = CompileGelu(treeSession, training: true);
        // The forward gelu is one kernel writing the values autodiff needs, instead of one kernel per value.
        var geluKernel = multi.Kernels.Select(k => multi.World.Get<KernelInfo>(k)).First(k => multi.World.Spec(k) is FusedElementwiseSpec);
        Assert.True(geluKernel.Outputs.Count > 1);
        Assert.True(multi.KernelCount < tree.KernelCount, $"multi-output {multi.KernelCount} kernels, tree {tree.KernelCount}");

        var inputs = new Dictionary<string, Array> { ["x"] = TestGraphs.RandomValues(3, 12) };
        var a = session.Run(multi, inputs).Results;
        var b = treeSession.Run(tree, inputs).Results;
        foreach (var name in new[] { StepGraph.LossOutput, "y", "grad:w", "grad:b" })
            Assert.Equal(b[name], a[name]);
    }

    [Fact]
    public void MemoryPlanReusesTransientBuffers()
    {
        // A chain of matmuls: each intermediate dies after the next layer reads it.
        var graph = new ComputeGraph("chain");
        var b = new GraphBuilder(graph);
        var h = b.Input("x", TensorType.F32(Dim.Symbol("B"), 8));
        for (int i = 0; i < 6; i++)
            h = b.Tanh(b.MatMul(h, b.Parameter($"w{i}", Shape.Of(8, 8), ParamInit.Xavier)));
        graph.SetOutput("y", h);

        using var planned = new Session(new CpuBackend(), seed: 1);
        var compiled = planned.Compile(StepGraph.ForwardOnly(graph), Batch4);
        Assert.True(compiled.Buffers.TransientElements < compiled.Buffers.UnplannedElements,
            $"planned {compiled.Buffers.TransientElements} elements, unplanned {compiled.Buffers.UnplannedElements}");
        Assert.True(compiled.Buffers.TransientElements <= 2 * 4 * 8, $"a chain needs two live buffers, planned {compiled.Buffers.TransientElements} elements");

        using var unplanned = new Session(new CpuBackend(), seed: 1, new CompileOptions { ReuseBuffers = false });
        var reference = unplanned.Compile(StepGraph.ForwardOnly(graph), Batch4);
        var input = TestGraphs.RandomValues(5, 32);
        var inputs = new Dictionary<string, Array> { ["x"] = input };
        Assert.Equal(unplanned.Run(reference, inputs).Results["y"], planned.Run(compiled, inputs).Results["y"]);
    }

    [Fact]
    public void EveryTensorAndKernelIsAnEntity()
    {
        var (graph, _) = SigmoidLayer();
        using var session = new Session(new CpuBackend(), seed: 1);
        var compiled = session.Compile(StepGraph.ForwardOnly(graph), Batch4);
        var world = compiled.World;
        Assert.Equal(compiled.Tensors().Count, world.CountEntities(new QueryDescription().WithAll<TensorOp, SymbolicType, TensorInfo, BufferSlot>()));
        Assert.Equal(2, world.CountEntities(new QueryDescription().WithAll<KernelInfo, Placement, CompiledKernel>()));
        Assert.Equal(1, world.CountEntities(new QueryDescription().WithAll<InputTag>()));
        Assert.Equal(2, world.CountEntities(new QueryDescription().WithAll<ParamTag>()));
    }

    [Fact]
    public void UnboundSymbolIsACompileErrorNamingTheTensor()
    {
        var (graph, _) = SigmoidLayer();
        using var session = new Session(new CpuBackend(), seed: 1);
        var error = Assert.Throws<CompileException>(() => session.Compile(StepGraph.ForwardOnly(graph), new Dictionary<string, long>()));
        Assert.Contains("'B'", error.Message);
        Assert.Contains("x", error.Message);
    }

    [Fact]
    public void ShapeErrorsNameTheFirstBadTensorInGraphOrderByNameOrByIdAndLayer()
    {
        var graph = new ComputeGraph("shapes");
        var b = new GraphBuilder(graph);
        Node positions;
        using (b.Scope("head")) positions = b.Iota(Dim.Symbol("N"));
        var x = b.Input("x", TensorType.F32(Dim.Symbol("B"), 3));
        graph.SetOutput("positions", positions);
        graph.SetOutput("y", b.Exp(x));
        using var session = new Session(new CpuBackend(), seed: 1);
        string Refusal(long n, long batch) => Assert.Throws<CompileException>(() =>
            session.Compile(StepGraph.ForwardOnly(graph), new Dictionary<string, long> { ["N"] = n, ["B"] = batch })).Message;

        // Both are bad: the unnamed iota comes first in the graph and is named by its id and layer.
        Assert.Equal($"tensor %{positions.Id} (head) of shape [N] has a non-positive dimension [0]", Refusal(0, 0));
        Assert.Equal("tensor x of shape [B, 3] has a non-positive dimension [-2, 3]", Refusal(4, -2));
    }

    [Fact]
    public void AskingAgainForTheSameComputationReusesTheCompiledGraph()
    {
        var (graph, _) = SigmoidLayer();
        using var session = new Session(new CpuBackend(), seed: 1);
        var first = session.Compile(StepGraph.ForwardOnly(graph), Batch4);
        Assert.Same(first, session.Compile(StepGraph.ForwardOnly(graph), Batch4));
        Assert.NotSame(first, session.Compile(StepGraph.ForwardOnly(graph), new Dictionary<string, long> { ["B"] = 5 }));
    }
}
