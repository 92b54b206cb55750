using System.Diagnostics;
using Dataflow.Backends.Cpu;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Optim;
using Dataflow.Engine.Sessions;
using Dataflow.Graph.Dsl;
using Dataflow.Graph.Tensors;
using Dataflow.Backends;
using Dataflow.Runner.Cli;
using Dataflow.Training;

namespace Dataflow.Runner.Bench;

/// <summary>Time spent in one kind of kernel during a profiled step.</summary>
public sealed record KernelKindTime(string Kind, int Kernels, double MsPerStep, double BestMsPerStep);

/// <summary>One configuration's training-step speed, and where the time goes.</summary>
public sealed record TrainBenchResult(
    string Label, int Kernels, double MsPerStep, double BestMsPerStep, double ProfiledMsPerStep, double KernelBestSumMs,
    IReadOnlyList<KernelKindTime> Breakdown, IReadOnlyList<KernelKindTime> Slowest, float FirstLoss, float LastLoss,
    double MatMulGflopPerStep, double AllocatedBytesPerStep)
{
    /// <summary>What the profiled step spent beyond its kernels: feeding, the optimizer, fetching, dispatch.</summary>
    public double OutsideKernelsMs => Breakdown.Count > 0 ? Breakdown[^1].MsPerStep : double.NaN;
}

/// <summary>
/// Full training steps (forward, backward, optimizer) of a model on random inputs, through the
/// same Session / CompiledProgram path as <c>dataflow train</c>. Several configurations (fused and
/// unfused) are timed in interleaved rounds, so a burst of load on a shared machine hits them alike.
/// </summary>
public sealed class TrainBench : IDisposable
{
    private readonly Session _session;
    private readonly CompiledProgram _graph;
    private readonly Dictionary<string, Array> _inputs;
    private readonly List<double> _roundMs = [];
    private readonly List<double> _roundBytes = [];
    // The loss is read into this array every step, as the trainer does, so a step allocates nothing of its own.
    private readonly Dictionary<string, float[]> _lossInto = new(StringComparer.Ordinal) { [StepGraph.LossOutput] = new float[1] };
    private float _firstLoss = float.NaN, _lastLoss = float.NaN;

    public TrainBench(string label, string modelPath, IEnumerable<string> overrides, IReadOnlyDictionary<string, long> bindings, CompileOptions options, int seed, string backend = "cpu")
    {
        Label = label;
        var model = ModelLoader.Load(modelPath, CommonOptions.ModelOptions(null, overrides, training: true));
        var defaults = model.Training;
        var optimizer = OptimizerSettings.From(defaults, learningRate: null);
        _session = new Session(BackendCatalog.Create(backend), seed, options)
        {
            Optimizer = optimizer,
            Schedule = new ConstantSchedule(optimizer.LearningRate),
        };
        var training = StepGraph.ForTraining(model.Graph, withGradNorm: optimizer.ClipNorm > 0);
        _graph = _session.Compile(training, bindings);
        _inputs = RandomInputs(model.Graph, bindings, seed);
    }

    public string Label { get; }
    public int Kernels => _graph.KernelCount;

    /// <summary>Runs <paramref name="steps"/> steps that are not timed: the JIT, first touch of buffers and scratch growth.</summary>
    public void WarmUp(int steps)
    {
        for (int i = 0; i < steps; i++) Step();
    }

    /// <summary>
    /// Runs <paramref name="steps"/> unprofiled steps and records their mean time and managed bytes
    /// allocated (on every thread: the job system's workers run kernel ranges) as one round.
    /// </summary>
    public void Round(int steps)
    {
        long bytes = GC.GetTotalAllocatedBytes(precise: true);
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < steps; i++) Step();
        _roundMs.Add(Stopwatch.GetElapsedTime(start).TotalMilliseconds / steps);
        _roundBytes.Add((double)(GC.GetTotalAllocatedBytes(precise: true) - bytes) / steps);
    }

    private static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int mid = sorted.Length / 2;
        return sorted.Length % 2 == 1 ? sorted[mid] : (sorted[mid - 1] + sorted[mid]) / 2;
    }

    /// <summary>
    /// Median of the rounds, best round, and the per-kind breakdown from <paramref name="profiledSteps"/>
    /// profiled steps. Each kernel's time is kept per step, and both its mean and its best are
    /// reported: on a shared machine the sum of the per-kernel bests is the steadiest estimate of an
    /// undisturbed step, because preemption lands on a different kernel each step.
    /// </summary>
    public TrainBenchResult Result(int profiledSteps, int slowest)
    {
        var kernels = _graph.Kernels;
        double[] Snapshot() => kernels.Select(k => _graph.World.Get<Timing>(k).Milliseconds).ToArray();
        var best = Enumerable.Repeat(double.MaxValue, kernels.Count).ToArray();
        var total = new double[kernels.Count];
        var systems = new Dictionary<string, double>(StringComparer.Ordinal);
        _graph.Profile = true;
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < profiledSteps; i++)
        {
            var before = Snapshot();
            Step();
            var after = Snapshot();
            foreach (var (system, elapsed) in _graph.LastStepTimings)
                systems[system] = systems.GetValueOrDefault(system) + elapsed.TotalMilliseconds;
            for (int k = 0; k < kernels.Count; k++)
            {
                best[k] = Math.Min(best[k], after[k] - before[k]);
                total[k] += after[k] - before[k];
            }
        }
        double profiledMs = Stopwatch.GetElapsedTime(start).TotalMilliseconds / profiledSteps;
        _graph.Profile = false;

        var perKernel = kernels.Select((k, i) =>
        {
            var info = _graph.World.Get<KernelInfo>(k);
            var spec = _graph.World.Spec(info);
            return (Kind: KindOf(spec), Name: $"k{info.Order} {spec.DisplayName} -> {_graph.World.Shape(_graph.World.Outputs(info)[0]).Desc}",
                Ms: total[i] / profiledSteps, Best: best[i]);
        }).ToList();
        var breakdown = perKernel.GroupBy(k => k.Kind)
            .Select(g => new KernelKindTime(g.Key, g.Count(), g.Sum(k => k.Ms), g.Sum(k => k.Best)))
            .OrderByDescending(k => k.BestMsPerStep).ToList();
        double inKernels = perKernel.Sum(k => k.Ms);
        // The frame systems' own times split what is not a kernel; dispatch's is its launches' overhead beyond the kernels.
        foreach (var (system, ms) in systems)
            breakdown.Add(new KernelKindTime($"  {system}{(system == "DispatchSystem" ? " (beyond its kernels)" : "")}", 0,
                system == "DispatchSystem" ? Math.Max(0, ms / profiledSteps - inKernels) : ms / profiledSteps, double.NaN));
        breakdown.Add(new KernelKindTime("outside kernels (feed, optimizer, fetch, dispatch)", 0, Math.Max(0, profiledMs - inKernels), double.NaN));
        var top = perKernel.OrderByDescending(k => k.Best).Take(slowest).Select(k => new KernelKindTime(k.Name, 1, k.Ms, k.Best)).ToList();

        var rounds = _roundMs.Count > 0 ? _roundMs : [profiledMs];
        return new TrainBenchResult(Label, Kernels, Median(rounds), rounds.Min(), profiledMs, perKernel.Sum(k => k.Best), breakdown, top, _firstLoss, _lastLoss,
            MatMulFlops(kernels.Select(k => _graph.World.Spec(_graph.World.Get<KernelInfo>(k)))) / 1e9, _roundBytes.Count > 0 ? Median(_roundBytes) : double.NaN);
    }

    private void Step()
    {
        var frame = _session.TrainStep(_graph, _inputs, into: _lossInto);
        float loss = frame.Results[StepGraph.LossOutput][0];
        if (float.IsNaN(_firstLoss)) _firstLoss = loss;
        _lastLoss = loss;
    }

    /// <summary>2·batch·M·N·K summed over the matmul kernels: the work a step cannot avoid.</summary>
    private static double MatMulFlops(IEnumerable<KernelSpec> specs) => specs.OfType<OpKernelSpec>()
        .Where(s => s.Op == Graph.Ops.OpCode.MatMul)
        .Sum(s =>
        {
            var a = s.Inputs[0].Shape;
            long k = s.Attrs.TransposeA ? a[^2] : a[^1];
            return 2.0 * s.Output.Elements * k;
        });

    /// <summary>A short name for what a kernel is, for the breakdown: the op, or the fused group's class.</summary>
    private static string KindOf(KernelSpec spec) => spec switch
    {
        FusedElementwiseSpec => "fused elementwise",
        _ => spec.DisplayName,
    };

    /// <summary>
    /// Uniform random values for every input: f32 in [0, 1); i32 below the size of the logits'
    /// last axis (a vocabulary or a class count), so token ids and labels are both valid.
    /// </summary>
    private static Dictionary<string, Array> RandomInputs(Graph.Ir.ComputeGraph graph, IReadOnlyDictionary<string, long> bindings, int seed)
    {
        var random = new Random(seed);
        long classes = graph.Outputs.TryGetValue("logits", out var logits) && logits.Shape.At(-1).IsConstant ? logits.Shape.At(-1).Value : 2;
        var inputs = new Dictionary<string, Array>(StringComparer.Ordinal);
        foreach (var (name, node) in graph.Inputs)
        {
            long count = node.Shape.Dims.Aggregate(1L, (n, d) => n * d.Evaluate(bindings));
            inputs[name] = node.DType == DType.I32
                ? Enumerable.Range(0, (int)count).Select(_ => random.Next((int)classes)).ToArray()
                : Enumerable.Range(0, (int)count).Select(_ => random.NextSingle()).ToArray();
        }
        return inputs;
    }

    public void Dispose() => _session.Dispose();
}
