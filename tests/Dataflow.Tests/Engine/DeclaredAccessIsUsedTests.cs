using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Generation;
using Dataflow.Graph.Ops;
using Dataflow.Tests.LanguageModels;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The other half of the access check: every type a compile or frame system declares is touched by
/// it in representative work. An over-declared type is not a wrong result, but it orders (and
/// serialises) the derived schedule by a dependency the data does not have. Declarations cover
/// conditional accesses, so the work is a union: a training step, an inference step, a profiled
/// step, a kernel placed on the fallback between copies, and a generation run (whose decode and
/// prefill graphs carry persistent state; the generation frame's own systems are held to the same
/// rule by GenerationScheduleTests).
/// </summary>
[Collection(nameof(Ecs.AccessCheckTests))]   // EcsChecks must stay on while the work runs
public sealed class DeclaredAccessIsUsedTests
{
    // What the frame systems hand each other lives in device buffers, which no world holds: these
    // types order the frame schedule and cannot be checked either way (see DeviceValues.cs).
    private static readonly Type[] DeviceValues = [typeof(InputValues), typeof(TensorValues), typeof(ParameterValues), typeof(StepResults)];

    private sealed class Without(IBackend inner, OpCode refused) : ForwardingBackend(inner)
    {
        public override Dataflow.Engine.Backends.Support SupportsOp(KernelSpec spec) =>
            spec is OpKernelSpec op && op.Op == refused ? Dataflow.Engine.Backends.Support.No($"no {op.DisplayName} kernel here") : Inner.SupportsOp(spec);
    }

    [Fact]
    public void EveryTypeACompileOrFrameSystemDeclaresIsTouchedInRepresentativeWork()
    {
        Assert.True(EcsChecks.Enabled);
        using var record = AccessRecord.Start();
        Train(new CpuBackend());
        Train(new WithFallback(new Without(new CpuBackend(), OpCode.MatMul), new CpuBackend()));
        Generate();

        var systems = record.Systems;
        foreach (var system in CompileSchedule.Systems().Select(s => s.Name)
                     .Concat([nameof(FeedSystem), nameof(DispatchSystem), nameof(OptimizeSystem), nameof(FetchSystem)]))
            Assert.Contains(system, systems);
        var unused = record.Unused(DeviceValues);
        Assert.True(unused.Count == 0, "declared but never touched (narrow the declaration, or add the work that touches it):\n  " + string.Join("\n  ", unused));
    }

    [Fact]
    public void ATypeDeclaredAndNeverTouchedIsReported()
    {
        var schedule = new Schedule("s").Add(new Declaring(SystemAccess.Of(reads: [typeof(Ecs.Position)], writes: [typeof(Ecs.Velocity)])));
        using var world = new World();
        var e = world.Create();
        world.Add(e, new Ecs.Position());
        using var record = AccessRecord.Start();
        schedule.Run(world);

        Assert.Equal([typeof(Ecs.Position)], record.Touched("DeclaringSystem"));
        Assert.Equal(["DeclaringSystem declares Velocity but never touched it"], record.Unused());
        Assert.Empty(record.Unused([typeof(Ecs.Velocity)]));
    }

    /// <summary>Reads the one entity's <see cref="Ecs.Position"/>, whatever it declares.</summary>
    private sealed class Declaring(SystemAccess access) : ISystem
    {
        public string Name => "DeclaringSystem";
        public SystemAccess Access { get; } = access;
        public void Run(World world) => world.ForEach(new QueryDescription().WithAll<Ecs.Position>(), (ref Ecs.Position _) => { });
    }

    /// <summary>Two training steps (one profiled) and an inference step of a small classifier.</summary>
    private static void Train(IBackend backend)
    {
        var batch = new Dictionary<string, long> { ["B"] = 6 };
        var inputs = new Dictionary<string, Array>
        {
            ["x"] = TestGraphs.RandomValues(4, 6 * 3),
            ["label"] = Enumerable.Range(0, 6).Select(i => i % 5).ToArray(),
        };
        using var session = new Session(backend, seed: 5) { Optimizer = new OptimizerConfig { Kind = OptimizerKind.AdamW, LearningRate = 0.1 } };
        var graph = TestGraphs.Classifier(3, 5);
        var step = session.Compile(StepGraph.ForTraining(graph, withGradNorm: true), batch);
        session.TrainStep(step, inputs);
        step.Profile = true;
        session.TrainStep(step, inputs);
        step.Profile = false;
        var forward = session.Compile(StepGraph.ForwardOnly(graph), batch);
        session.Run(forward, inputs);
    }

    private sealed class Discard : IGenerationSink
    {
        public void OnText(int request, string piece) { }
        public void OnFinished(GenerationResult result) { }
    }

    /// <summary>Prompts prefilled in chunks, decoded, sampled, streamed to a sink and stopped.</summary>
    private static void Generate()
    {
        using var session = TinyGpt.NewSession();
        using var generator = GeneratorTests.NewGenerator(session, slots: 2);
        var tokenizer = GeneratorTests.Tokenizer;
        generator.Submit(new GenerationRequest(tokenizer.Encode("abcdefghij")) { MaxTokens = 4, Sampling = new SamplingOptions(1, TopK: 4), Sink = new Discard() });
        generator.Submit(new GenerationRequest(tokenizer.Encode("abc")) { MaxTokens = 3, StopTokens = [10] });
        while (generator.Step()) { }
    }
}
