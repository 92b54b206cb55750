using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Sessions;

namespace Dataflow.Tests.Engine;

/// <summary>
/// The compile schedule comes from the systems' declarations alone, and compilation, a parallel query
/// over the kernels that own their spec, gives what a serial loop in dispatch order would.
/// </summary>
public sealed class ParallelCompileTests
{
    private static readonly Dictionary<string, long> Batch4 = new() { ["B"] = 4 };

    private static StepGraph Classifier() => StepGraph.ForTraining(TestGraphs.Classifier(3, 5), withGradNorm: true);

    [Fact]
    public void AddedInReverseTheCompileSystemsAreScheduledTheSame()
    {
        var forward = CompileSchedule.Create();
        // The same systems added last to first, with no 'after': only their Access can order them.
        var reversed = new Schedule("reversed").AddStage(CompileSchedule.Stage);
        foreach (var system in CompileSchedule.Systems().Reverse()) reversed.Add(system, CompileSchedule.Stage);

        Assert.True(reversed.StrictAmbiguity);
        Assert.Empty(reversed.Ambiguities);
        Assert.Equal(
            [nameof(GraphLoadSystem), nameof(ShapeBindingSystem), nameof(FusionSystem), nameof(PlacementSystem), nameof(MemoryPlanningSystem), nameof(CompileSystem)],
            reversed.Batches.Select(b => Assert.Single(b)));
        Assert.Equal(forward.Batches, reversed.Batches);
    }

    [Fact]
    public void EachSpecCompilesOnceForItsFirstKernelAndTheOthersShareIt()
    {
        using var counting = new CountingBackend(new CpuBackend());
        // Unfused, so that its ops run one kernel each and some repeat a spec (two subtractions of the
        // logits' shape); with fusion the cross-entropy pattern takes them all.
        using var session = new Session(counting, seed: 5, new CompileOptions { Fusion = false });
        var compiled = session.Compile(Classifier(), Batch4);
        var world = compiled.World;

        // What a serial loop in dispatch order gives: the first kernel of each key compiles.
        var firstOfKey = new Dictionary<string, Entity>();
        foreach (var kernel in compiled.Kernels)
        {
            var spec = world.Spec(world.Get<KernelInfo>(kernel));
            firstOfKey.TryAdd(spec.Key, kernel);
            Assert.Equal(firstOfKey[spec.Key] == kernel, world.Has<CompilesSpec>(kernel));
            Assert.Same(world.Compiled(firstOfKey[spec.Key]), world.Compiled(kernel));
            Assert.Equal(spec.Key, world.Compiled(kernel).Spec.Key);
        }
        Assert.True(firstOfKey.Count < compiled.KernelCount, "the classifier repeats some spec, so sharing is tested");
        Assert.Equal(firstOfKey.Keys.Order(StringComparer.Ordinal), counting.Compiled.Order(StringComparer.Ordinal));
        Assert.Equal(firstOfKey.Count, world.Resource<KernelTable>().Count);
    }

    [Fact]
    public void AFailedCompileIsReportedForTheFirstFailingKernelInDispatchOrder()
    {
        string firstKey;
        using (var session = new Session(new CpuBackend(), seed: 5))
        {
            var reference = session.Compile(Classifier(), Batch4);
            firstKey = reference.World.Spec(reference.World.Get<KernelInfo>(reference.Kernels[0])).Key;
        }

        // Every compile fails; the first kernel's is the slowest to fail, so a report of whichever
        // failed first in time would name another kernel.
        using var failing = new CountingBackend(new CpuBackend()) { FailAll = true, SlowKey = firstKey };
        using var failingSession = new Session(failing, seed: 5);
        var ex = Assert.Throws<CompileFailure>(() => failingSession.Compile(Classifier(), Batch4));
        Assert.Equal(firstKey, ex.Key);
        Assert.True(failing.Compiled.Count > 1, "several kernels were compiling when the first failure was chosen");
    }

    private sealed class CompileFailure(string key) : Exception($"cannot compile {key}")
    {
        public string Key { get; } = key;
    }

    /// <summary>The CPU backend, recording each compile (from any thread), optionally failing them.</summary>
    private sealed class CountingBackend(CpuBackend inner) : IBackend, IDisposable
    {
        private readonly List<string> _compiled = [];

        public bool FailAll { get; init; }

        public string? SlowKey { get; init; }

        public IReadOnlyList<string> Compiled { get { lock (_compiled) return [.. _compiled]; } }

        public string Name => inner.Name;
        public DeviceInfo Device => inner.Device;
        public Dataflow.Engine.Backends.Support SupportsOp(KernelSpec spec) => inner.SupportsOp(spec);
        public IDeviceBuffer Allocate(long elements) => inner.Allocate(elements);
        public void Upload(IDeviceBuffer buffer, ReadOnlySpan<float> source, long offset = 0) => inner.Upload(buffer, source, offset);
        public void Upload(IDeviceBuffer buffer, ReadOnlySpan<int> source, long offset = 0) => inner.Upload(buffer, source, offset);
        public void Download(IDeviceBuffer buffer, Span<float> destination, long offset = 0) => inner.Download(buffer, destination, offset);
        public void Download(IDeviceBuffer buffer, Span<int> destination, long offset = 0) => inner.Download(buffer, destination, offset);
        public void Enqueue(ICompiledKernel kernel, ReadOnlySpan<IDeviceBuffer> buffers, in LaunchParams launch) => inner.Enqueue(kernel, buffers, in launch);
        public void Wait() => inner.Wait();

        public ICompiledKernel Compile(KernelSpec spec)
        {
            lock (_compiled) _compiled.Add(spec.Key);
            if (!FailAll) return inner.Compile(spec);
            if (spec.Key == SlowKey) Thread.Sleep(200);
            throw new CompileFailure(spec.Key);
        }

        public void Dispose() => (inner as IDisposable)?.Dispose();
    }
}
