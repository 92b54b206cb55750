using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Ir;
using Dataflow.Graph.Tensors;
using Dataflow.Tests.Dsl;
using Dataflow.Training;

namespace Dataflow.Tests.Engine;

/// <summary>
/// Dispatch waves: kernels that write no buffer another touches share a wave, derived from the planned
/// buffers (so a reused slot orders its kernels), and running a wave's small kernels side by side changes
/// no bit of a training run.
/// </summary>
public sealed class DispatchWaveTests
{
    [Fact]
    public void AReaderOfAnOutputComesInALaterWaveAndIndependentKernelsShareOne()
    {
        // k0 and k1 both read buffer 0 and write their own; k2 reads what both wrote; k3 reads only 0.
        var waves = WaveSystem.Assign([new([0], [1]), new([0], [2]), new([1, 2], [3]), new([0], [4])]);
        Assert.Equal([0, 0, 1, 0], waves);
    }

    [Fact]
    public void AKernelThatOverwritesABufferWaitsForItsReadersAndItsWriter()
    {
        // k2 writes buffer 1 (a reused slot) that k1 still reads: after k1, though it reads nothing k1 wrote.
        // k3 writes 1 again after k2 wrote it; k4 updates buffer 5 in place, and k5 reads the update.
        var waves = WaveSystem.Assign([new([0], [1]), new([1], [2]), new([0], [1]), new([0], [1]), new([5], [5]), new([5], [6])]);
        Assert.Equal([0, 1, 2, 3, 0, 1], waves);
    }

    /// <summary>y = −exp(x) + log(x) unfused: log reads only x, so only a shared buffer can order it after neg.</summary>
    private static (CompiledGraph Graph, Session Session) ExpNegLog(bool reuseBuffers)
    {
        var graph = new ComputeGraph("waves");
        var b = new GraphBuilder(graph);
        var x = b.Input("x", TensorType.F32(4, 256));
        graph.SetOutput("y", b.Add(b.Neg(b.Exp(x)), b.Log(x)));
        var session = new Session(new CpuBackend(), seed: 1, new CompileOptions { Fusion = false, ReuseBuffers = reuseBuffers });
        return (session.Compile(TrainingGraph.ForwardOnly(graph), new Dictionary<string, long>()), session);
    }

    private static Dictionary<string, (int Wave, int Buffer)> WavesByKernel(CompiledGraph graph) => graph.Kernels.ToDictionary(
        k => graph.World.Spec(graph.World.Get<KernelInfo>(k)).DisplayName,
        k => (graph.World.Get<Wave>(k).Index, graph.World.Get<BufferSlot>(graph.World.Outputs(graph.World.Get<KernelInfo>(k))[0]).Buffer));

    [Fact]
    public void AKernelWhosePlannedBufferReusesAnotherTensorsIsOrderedAfterItsLastReader()
    {
        var (reused, session) = ExpNegLog(reuseBuffers: true);
        using (session)
        {
            var kernels = WavesByKernel(reused);
            // Planning gave log's output the slot exp's output left when neg, its last reader, had run.
            Assert.Equal(kernels["fused[exp]"].Buffer, kernels["fused[log]"].Buffer);
            Assert.Equal(0, kernels["fused[exp]"].Wave);
            Assert.Equal(1, kernels["fused[neg]"].Wave);
            Assert.Equal(2, kernels["fused[log]"].Wave);
            Assert.Equal(3, kernels["fused[add]"].Wave);
        }

        var (own, ownSession) = ExpNegLog(reuseBuffers: false);
        using (ownSession)
        {
            // With a buffer of its own log depends on nothing but the input: it joins exp's wave.
            var kernels = WavesByKernel(own);
            Assert.NotEqual(kernels["fused[exp]"].Buffer, kernels["fused[log]"].Buffer);
            Assert.Equal(0, kernels["fused[log]"].Wave);
            Assert.Equal(0, kernels["fused[exp]"].Wave);
            Assert.Equal(2, kernels["fused[add]"].Wave);

            var x = TestGraphs.RandomValues(4, 4 * 256, low: 0.5, high: 2);
            var y = ownSession.Run(own, new Dictionary<string, Array> { ["x"] = x }).Results["y"];
            for (int i = 0; i < x.Length; i++) Assert.Equal(-MathF.Exp(x[i]) + MathF.Log(x[i]), y[i], 1e-5f);
        }
    }

    [Fact]
    public void WithWavesOffEveryKernelIsAWaveOfItsOwnInDispatchOrder()
    {
        var model = ModelLoader.Load(DslTestSupport.ModelPath("mlp.dfg"), new ModelOptions(null, new Dictionary<string, string> { ["hidden"] = "32" }, Training: true));
        using var session = new Session(new CpuBackend(), seed: 5, CompileOptions.Default with { Waves = false });
        var graph = session.Compile(TrainingGraph.ForTraining(model.Graph, withGradNorm: false), new Dictionary<string, long> { ["B"] = 4 });
        // Kernels lists them in dispatch order.
        Assert.Equal(Enumerable.Range(0, graph.KernelCount), graph.Kernels.Select(k => graph.World.Get<Wave>(k).Index));
    }

    public static TheoryData<string, string[], long> Models => new()
    {
        // The demo MLP at the bench's batch, with dropout (seeded kernels) and Adam.
        { "mlp.dfg", [], 64 },
        // A GPT layer wide enough that its bigger kernels split over the cores, with gradient clipping.
        { "gpt.dfg", ["vocab=65", "ctx=32", "d=64", "heads=4", "layers=1", "dropout=0.1"], 8 },
    };

    [Theory]
    [MemberData(nameof(Models))]
    public void WaveDispatchTrainsToTheSameBitsAsSequentialDispatch(string modelFile, string[] sets, long batch)
    {
        var overrides = sets.Select(s => s.Split('=')).ToDictionary(p => p[0], p => p[1]);
        var model = ModelLoader.Load(DslTestSupport.ModelPath(modelFile), new ModelOptions(null, overrides, Training: true));
        var bindings = new Dictionary<string, long> { ["B"] = batch };
        if (modelFile == "gpt.dfg") bindings["T"] = long.Parse(overrides["ctx"]);

        (float[] Losses, Dictionary<string, float[]> Parameters, int SharedWaves) Train(bool waves)
        {
            var optimizer = OptimizerSettings.From(model.Training, learningRate: null);
            using var session = new Session(new CpuBackend(), seed: 11, CompileOptions.Default with { Waves = waves }) { Optimizer = optimizer };
            var graph = session.Compile(TrainingGraph.ForTraining(model.Graph, withGradNorm: optimizer.ClipNorm > 0), bindings);
            var inputs = Inputs(model.Graph, bindings);
            var losses = new float[6];
            for (int step = 0; step < losses.Length; step++) losses[step] = session.TrainStep(graph, inputs).Results[TrainingGraph.LossOutput][0];
            // Waves that run side by side: two small kernels or more.
            int shared = graph.Kernels.Select(k => graph.World.Get<Wave>(k)).Where(w => w.Work < DispatchSystem.SmallWork)
                .GroupBy(w => w.Index).Count(g => g.Count() > 1);
            var parameters = session.Parameters.Slots.ToDictionary(s => s.Name, s => session.Parameters.Read(s.Value, s.Elements));
            return (losses, parameters, shared);
        }

        var sequential = Train(waves: false);
        var concurrent = Train(waves: true);
        Assert.Equal(0, sequential.SharedWaves);
        Assert.True(concurrent.SharedWaves > 0, "no wave ran kernels side by side");
        Assert.True(sequential.Losses.All(float.IsFinite));
        Assert.Equal(Bits(sequential.Losses), Bits(concurrent.Losses));
        Assert.Equal(sequential.Parameters.Keys.Order(), concurrent.Parameters.Keys.Order());
        foreach (var (name, values) in sequential.Parameters)
            Assert.True(Bits(values).SequenceEqual(Bits(concurrent.Parameters[name])), $"parameter {name} differs");
    }

    private static int[] Bits(float[] values) => [.. values.Select(BitConverter.SingleToInt32Bits)];

    /// <summary>Fixed pseudo-random inputs: i32 below 10 (a class, a token), f32 in [0, 1).</summary>
    private static Dictionary<string, Array> Inputs(ComputeGraph graph, IReadOnlyDictionary<string, long> bindings)
    {
        var random = new Random(3);
        var inputs = new Dictionary<string, Array>(StringComparer.Ordinal);
        foreach (var (name, node) in graph.Inputs)
        {
            int count = (int)node.Shape.Dims.Aggregate(1L, (n, d) => n * d.Evaluate(bindings));
            inputs[name] = node.DType == DType.I32
                ? Enumerable.Range(0, count).Select(_ => random.Next(10)).ToArray()
                : Enumerable.Range(0, count).Select(_ => random.NextSingle()).ToArray();
        }
        return inputs;
    }
}
