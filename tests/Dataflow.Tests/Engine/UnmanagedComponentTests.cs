using System.Reflection;
using System.Runtime.CompilerServices;
using Dataflow.Backends.Cpu;
using Dataflow.Engine.Components;
using Dataflow.Engine.Sessions;
using Dataflow.Generation.Frame;

namespace Dataflow.Tests.Engine;

/// <summary>
/// Components are plain unmanaged structs (ids, indices, sizes, enums, entities), so chunks are
/// plain memory; what is an object lives in a resource table and a component holds its index.
/// </summary>
public sealed class UnmanagedComponentTests
{
    /// <summary>Every component type: the structs of the engine's component namespace and of the generation frame.</summary>
    private static IEnumerable<Type> ComponentTypes() =>
        new[] { (typeof(KernelInfo).Assembly, typeof(KernelInfo).Namespace), (typeof(CacheSlot).Assembly, typeof(CacheSlot).Namespace) }
            .SelectMany(a => a.Assembly.GetTypes().Where(t => t.Namespace == a.Namespace && IsComponentStruct(t)));

    // Enums and the helper values components embed (ListRange, Dimensions) are not components themselves, but are checked through them.
    private static bool IsComponentStruct(Type t) =>
        t.IsValueType && !t.IsEnum && !t.IsGenericTypeDefinition && !t.IsNested && !t.Name.StartsWith('<')
        && t != typeof(ListRange) && t != typeof(Dimensions);

    private static bool HasReferences(Type t) =>
        (bool)typeof(RuntimeHelpers).GetMethod(nameof(RuntimeHelpers.IsReferenceOrContainsReferences))!.MakeGenericMethod(t).Invoke(null, null)!;

    [Fact]
    public void EveryComponentTypeIsUnmanaged()
    {
        var types = ComponentTypes().ToList();
        Assert.Contains(typeof(KernelInfo), types);
        Assert.Contains(typeof(TensorInfo), types);
        Assert.Contains(typeof(TensorOp), types);
        Assert.Contains(typeof(CacheSlot), types);
        var managed = types.Where(HasReferences).Select(t => t.FullName).ToList();
        Assert.True(managed.Count == 0, $"components holding references (put the object in a resource table and hold its index): {string.Join(", ", managed)}");
    }

    [Fact]
    public void ACompiledTrainingWorldHoldsOnlyUnmanagedComponentsOfTheEngine()
    {
        using var session = new Session(new CpuBackend(), seed: 5);
        var step = session.Compile(StepGraph.ForTraining(TestGraphs.Classifier(3, 5), withGradNorm: true), new Dictionary<string, long> { ["B"] = 4 });
        var held = step.World.Archetypes.SelectMany(a => a.Types).Distinct().ToList();
        Assert.Contains(typeof(CompiledKernel), held);
        Assert.Contains(typeof(BufferSlot), held);
        Assert.Contains(typeof(GradOf), held);
        var engine = ComponentTypes().ToHashSet();
        Assert.All(held, t =>
        {
            Assert.True(engine.Contains(t), $"{t.FullName} is a component outside Dataflow.Engine.Components");
            Assert.False(HasReferences(t), $"{t.Name} holds references");
        });
    }

    [Fact]
    public void AGenerationWorldHoldsOnlyUnmanagedComponentsOfTheEngineAndTheFrame()
    {
        // Found by namespace above; a component declared elsewhere would escape that test, not this one.
        using var session = Dataflow.Tests.LanguageModels.TinyGpt.NewSession();
        using var generator = Dataflow.Tests.LanguageModels.GeneratorTests.NewGenerator(session, slots: 2);
        var tokenizer = Dataflow.Tests.LanguageModels.GeneratorTests.Tokenizer;
        generator.Submit(new Dataflow.Generation.GenerationRequest(tokenizer.Encode("abcdefghij")) { MaxTokens = 4 });
        generator.Submit(new Dataflow.Generation.GenerationRequest(tokenizer.Encode("de")) { MaxTokens = 2 });
        generator.Submit(new Dataflow.Generation.GenerationRequest(tokenizer.Encode("fg")) { MaxTokens = 3 });
        var held = new HashSet<Type>();
        while (generator.Step()) held.UnionWith(generator.FrameWorld.Archetypes.SelectMany(a => a.Types));
        Assert.Contains(typeof(CacheSlot), held);
        var known = ComponentTypes().ToHashSet();
        Assert.All(held, t =>
        {
            Assert.True(known.Contains(t), $"{t.FullName} is a component outside the engine's and the generation frame's component namespaces");
            Assert.False(HasReferences(t), $"{t.Name} holds references");
        });
    }

    [Fact]
    public void TablesResolveWhatTheComponentsIndex()
    {
        using var session = new Session(new CpuBackend(), seed: 5);
        var step = session.Compile(StepGraph.ForTraining(TestGraphs.Classifier(3, 5), withGradNorm: true), new Dictionary<string, long> { ["B"] = 4 });
        var world = step.World;
        foreach (var kernel in step.Kernels)
        {
            var info = world.Get<KernelInfo>(kernel);
            Assert.NotNull(world.Spec(info));
            Assert.Same(session.Backend, world.Backend(world.Get<Placement>(kernel)));
            // Launched on its inputs' then its outputs' buffers, each resolved through the buffer table.
            Assert.Equal(world.Inputs(info).Concat(world.Outputs(info)).Select(world.Buffer), world.LaunchBuffers(kernel));
        }
        // Each tensor's op facts, declared type and layer are its node's, and its attributes and shape resolve to the node's own records.
        var attrs = world.Resource<AttrsTable>();
        var shapes = world.Resource<ShapeTable>();
        var tensors = step.Tensors();
        Assert.Equal(world.CountEntities(new Dataflow.Engine.Ecs.QueryDescription().WithAll<TensorOp>()), tensors.Count);
        foreach (var (node, tensor) in tensors)
        {
            var op = world.Get<TensorOp>(tensor);
            Assert.Equal((node.Id, node.Op, node.Attrs.Value), (op.Id, op.Op, op.Value));
            Assert.Same(node.Attrs, attrs[op.Attrs]);
            var type = world.Get<SymbolicType>(tensor);
            Assert.Equal(node.DType, type.DType);
            Assert.Same(node.Shape, shapes[type.Shape]);
            Assert.Equal(node.Scope, world.Scope(tensor));
            Assert.Equal(node.Attrs.KeepDims, op.Has(OpFlags.KeepDims));
            Assert.Equal(node.Attrs.TransposeA, op.Has(OpFlags.TransposeA));
            Assert.Equal(node.Attrs.TransposeB, op.Has(OpFlags.TransposeB));
            Assert.Equal(node.Attrs.Data is not null, op.Has(OpFlags.HasData));
            Assert.Equal(node.Attrs.Count is not null, op.Has(OpFlags.HasCount));
            Assert.Equal(node.Attrs.Axes.Aggregate(0u, (mask, axis) => mask | 1u << axis), op.Axes);
        }
        Assert.Contains(step.Tensors().Keys, n => n.Op == Dataflow.Graph.Ops.OpCode.ReduceSum && !n.Attrs.Axes.IsEmpty);
        Assert.Contains(step.Tensors().Keys, n => n.Op == Dataflow.Graph.Ops.OpCode.MatMul && (n.Attrs.TransposeA || n.Attrs.TransposeB));
        var parameters = new List<string>();
        world.ForEach(new Dataflow.Engine.Ecs.QueryDescription().WithAll<ParamTag>(), (ref ParamTag tag) => parameters.Add(world.Name(tag.Name)));
        Assert.Equal(step.Context.Graph.Parameters.Select(p => p.Name).Order(StringComparer.Ordinal), parameters.Order(StringComparer.Ordinal));
    }
}
