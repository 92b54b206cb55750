using Dataflow.Backends.Cpu;
using Dataflow.Engine.Components;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Sessions;

namespace Dataflow.Tests.Engine;

/// <summary>The compile and frame schedules are derived from the systems' declared access, and strict.</summary>
public sealed class DerivedScheduleTests
{
    [Fact]
    public void CompileScheduleOrdersByAccessWithPlacementBeforeMemoryPlanning()
    {
        // Placement inserts copy tensors and kernels (KernelInfo, CopyOf, Residence) that memory planning reads.
        var schedule = CompileSchedule.Create();
        Assert.Empty(schedule.Ambiguities);
        Assert.Equal(
            [[nameof(GraphLoadSystem)], [nameof(ShapeBindingSystem)], [nameof(FusionSystem)], [nameof(PlacementSystem)], [nameof(MemoryPlanningSystem)], [nameof(CompileSystem)]],
            schedule.Batches);
    }

    [Fact]
    public void FrameScheduleRunsFeedDispatchOptimizeFetch()
    {
        using var session = new Session(new CpuBackend(), seed: 1);
        var schedule = FrameSchedule.Create(session.Parameters, session.Backend, new DispatchSystem());
        Assert.Empty(schedule.Ambiguities);
        Assert.Equal([[nameof(FeedSystem)], [nameof(DispatchSystem)], [nameof(OptimizeSystem)], [nameof(FetchSystem)]], schedule.Batches);
    }

    [Fact]
    public void ASecondUnorderedWriterOfBufferSlotsMakesTheCompileScheduleRefuseToRun()
    {
        var schedule = CompileSchedule.Create()
            .Add(new Rogue(SystemAccess.Of(reads: [typeof(KernelInfo)], writes: [typeof(BufferSlot)])), CompileSchedule.Stage);
        using var world = new World();

        Assert.True(schedule.StrictAmbiguity);
        var ex = Assert.Throws<ScheduleException>(() => schedule.Run(world));
        Assert.Contains("MemoryPlanningSystem and RogueSystem both write BufferSlot with no order between them", ex.Message);
    }

    [Fact]
    public void TheCheckerRecordsWhatEachCompileSystemTouchedIncludingItsDeferredChanges()
    {
        var graph = new Dataflow.Graph.Ir.ComputeGraph("g");
        var b = new Dataflow.Graph.Ir.GraphBuilder(graph);
        var x = b.Input("x", Dataflow.Graph.Tensors.TensorType.F32(2, 3));
        graph.SetOutput("y", b.Exp(x));
        using var session = new Session(new CpuBackend(), seed: 1);
        using var world = new World();
        world.SetResource(new CompileContext
        {
            Graph = graph, Bindings = new Dictionary<string, long>(), Backend = session.Backend, Parameters = session.Parameters,
            Outputs = StepGraph.ForwardOnly(graph).Outputs,
        });
        var buffers = new ProgramBuffers();
        world.SetResource(buffers);
        var schedule = CompileSchedule.Create();
        try
        {
            schedule.Run(world);
            var access = schedule.LastAccess;
            Assert.Contains(typeof(BufferSlot), access[nameof(MemoryPlanningSystem)].Written);
            Assert.Contains(typeof(Placement), access[nameof(PlacementSystem)].Written);
            Assert.Contains(typeof(KernelInfo), access[nameof(FusionSystem)].Written);
            // After loading, the systems read the tensors' facts as components, never the graph nodes:
            // binding reads the declared types, fusion and memory planning the op facts, dispatch the node
            // ids it salts seeds with, and no type any of them touches or declares holds a node.
            Assert.Contains(typeof(SymbolicType), access[nameof(ShapeBindingSystem)].Touched);
            Assert.Contains(typeof(ShapeTable), access[nameof(ShapeBindingSystem)].Touched);
            foreach (var system in new[] { nameof(ShapeBindingSystem), nameof(FusionSystem), nameof(MemoryPlanningSystem) })
                Assert.Contains(typeof(TensorOp), access[system].Touched);
            var dispatch = new DispatchSystem().Access;
            Assert.Contains(typeof(TensorOp), dispatch.Reads);
            Assert.All(access.Values.SelectMany(a => a.Touched).Concat(dispatch.Reads).Concat(dispatch.Writes),
                t => Assert.False(HoldsNodes(t), $"{t.Name} holds graph nodes"));
            // All on the chosen backend: placement reads the specs, makes the backend table, places, and inserts nothing.
            Assert.Equal(
                new HashSet<Type> { typeof(CompileContext), typeof(SpecTable), typeof(BackendTable) },
                access[nameof(PlacementSystem)].Touched.Except([typeof(KernelInfo), typeof(Placement)]).ToHashSet());
        }
        finally
        {
            foreach (var buffer in buffers.Owned) buffer.Dispose();
        }
    }

    [Fact]
    public void CompilingAGraphHoldsEverySystemToItsDeclaration()
    {
        // The whole compile and frame schedules run with the checker on; a system that touched an
        // undeclared type would throw here.
        var graph = new Dataflow.Graph.Ir.ComputeGraph("g");
        var b = new Dataflow.Graph.Ir.GraphBuilder(graph);
        var x = b.Input("x", Dataflow.Graph.Tensors.TensorType.F32(Dataflow.Graph.Tensors.Dim.Symbol("B"), 3));
        var w = b.Parameter("w", Dataflow.Graph.Tensors.Shape.Of(3, 2), Dataflow.Graph.Ops.ParamInit.Xavier);
        graph.SetOutput("y", b.Exp(b.MatMul(x, w)));
        using var session = new Session(new CpuBackend(), seed: 1);
        var compiled = session.Compile(StepGraph.ForwardOnly(graph), new Dictionary<string, long> { ["B"] = 2 });
        var frame = session.Run(compiled, new Dictionary<string, Array> { ["x"] = new float[6] });
        Assert.All(frame.Results["y"], v => Assert.Equal(1f, v, 1e-5f)); // exp(0 @ w) = 1
        Assert.Equal(2, compiled.KernelCount);
    }

    /// <summary>Whether a type is a graph node or a table of them (what the world read before it was the graph).</summary>
    private static bool HoldsNodes(Type t) =>
        t == typeof(Dataflow.Graph.Ir.Node)
        || t.BaseType is { IsGenericType: true } table && table.GetGenericTypeDefinition() == typeof(ResourceTable<>) && table.GetGenericArguments()[0] == typeof(Dataflow.Graph.Ir.Node);

    private sealed class Rogue(SystemAccess access) : ISystem
    {
        public string Name => "RogueSystem";
        public SystemAccess Access { get; } = access;
        public void Run(World world) { }
    }
}
