using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Frame;
using Dataflow.Engine.Optim;
using Dataflow.Graph.Ir;

namespace Dataflow.Engine.Sessions;

/// <summary>
/// One model's life on one device: its parameters and optimizer state, the step counter, and the
/// graphs compiled from it (one per graph and set of dimension values, compiled on first use).
/// </summary>
public sealed class Session : IDisposable
{
    private readonly Dictionary<(ComputeGraph Graph, string What), CompiledProgram> _compiled = [];
    private readonly Random _initRandom;

    public Session(IBackend backend, int seed, CompileOptions? options = null)
    {
        Backend = backend;
        Seed = seed;
        Options = options ?? CompileOptions.Default;
        Parameters = new ParameterStore(backend);
        States = new StateStore(backend);
        _initRandom = new Random(seed);
    }

    public IBackend Backend { get; }
    public int Seed { get; }
    public CompileOptions Options { get; }
    public ParameterStore Parameters { get; }

    /// <summary>State tensors (key/value caches) the session's graphs share and update in place.</summary>
    public StateStore States { get; }

    /// <summary>Optimizer steps taken so far (restored from checkpoints).</summary>
    public long Step { get; set; }

    public OptimizerConfig Optimizer { get; set; } = new();
    public LearningRateSchedule Schedule { get; set; } = new ConstantSchedule(1e-3);

    /// <summary>Applied to every training step's gradients before the update (data-parallel training); null: none.</summary>
    public IGradientExchange? GradientExchange { get; set; }

    /// <summary>
    /// ZeRO stage 1: when set, each step updates only this rank's shard of the parameters and then
    /// gathers them all; each rank allocates the moments of its shard only, and
    /// <see cref="OptimizerShards.GatherStateToRoot"/> brings them to rank 0 for a checkpoint.
    /// </summary>
    public IOptimizerSharding? OptimizerSharding
    {
        get => _sharding;
        set => (_sharding, _shards) = (value, null);
    }

    /// <summary>The shards of the parameters under <see cref="OptimizerSharding"/> (null without it); fixed once the parameters are declared.</summary>
    public OptimizerShards? Shards => _sharding is null ? null : _shards ??= new OptimizerShards(Parameters, _sharding);

    private IOptimizerSharding? _sharding;
    private OptimizerShards? _shards;

    /// <summary>
    /// Mixed into every step's random seed (dropout), so that the ranks of a data-parallel run draw
    /// different masks for their different examples; 0 (one process) leaves the seeds as they were.
    /// </summary>
    public int RandomStream { get; set; }

    /// <summary>Creates any parameters of <paramref name="graph"/> the session lacks, from the session's seed.</summary>
    public void DeclareParameters(ComputeGraph graph) => Parameters.Declare(graph, _initRandom.NextDouble);

    /// <summary>The graph compiled for these dimension values; cached, so a step of the same shape reuses it.</summary>
    public CompiledProgram Compile(StepGraph graph, IReadOnlyDictionary<string, long> bindings)
    {
        // Keyed by what is computed (the graph, its fetched nodes, the gradients) rather than by the
        // StepGraph object, so asking again for the same thing reuses the compiled graph.
        var key = (graph.Graph, string.Join("|",
            string.Join(",", graph.Outputs.OrderBy(o => o.Key, StringComparer.Ordinal).Select(o => $"{o.Key}={o.Value.Id}")),
            string.Join(",", graph.Gradients.OrderBy(g => g.Key, StringComparer.Ordinal).Select(g => $"{g.Key}={g.Value.Id}")),
            string.Join(",", bindings.OrderBy(b => b.Key, StringComparer.Ordinal).Select(b => $"{b.Key}={b.Value}"))));
        if (!_compiled.TryGetValue(key, out var compiled))
        {
            DeclareParameters(graph.Graph);
            _trains |= graph.Gradients.Count > 0;
            DecodeWeightConversion.Apply(graph, Parameters, Backend, Options.Weights, Options.DecodeCopies && !_trains);
            _compiled[key] = compiled = new CompiledProgram(graph, bindings, Backend, Parameters, Options, States);
        }
        return compiled;
    }

    /// <summary>Set once a graph with gradients was compiled: its optimizer writes the weights, which f32 decode copies would not follow.</summary>
    private bool _trains;

    private static readonly string[] LossOnly = [StepGraph.LossOutput];

    /// <summary>
    /// One optimizer step: forward, backward, update. Returns what was fetched (the loss at least) in
    /// the graph's training frame, which the next step of the same graph refills: read what it holds
    /// before stepping again. Fetched values go into fresh arrays, or into <paramref name="into"/>'s
    /// arrays of the right length (see <see cref="FrameContext.FetchInto"/>), so that with
    /// <paramref name="into"/> a steady step allocates nothing.
    /// </summary>
    public FrameContext TrainStep(CompiledProgram graph, IReadOnlyDictionary<string, Array> inputs, IReadOnlyCollection<string>? fetch = null,
        IReadOnlyDictionary<string, float[]>? into = null)
    {
        EnsureOptimizerState();
        var frame = graph.TrainingFrame ??= new FrameContext();
        frame.Reuse();
        frame.Inputs = inputs;
        frame.Seed = StepSeed();
        frame.Update = UpdateFor(Step, frame.Update);
        frame.Exchange = GradientExchange;
        frame.Shards = Shards;
        frame.Fetch = fetch ?? LossOnly;
        frame.FetchInto = into;
        graph.Run(frame);
        Step++;
        return frame;
    }

    /// <summary>A forward pass without updating anything (evaluation, generation).</summary>
    /// <param name="into">Caller-owned arrays that outputs of the same length are read into (see <see cref="FrameContext.FetchInto"/>).</param>
    public FrameContext Run(CompiledProgram graph, IReadOnlyDictionary<string, Array> inputs, IReadOnlyCollection<string>? fetch = null,
        IReadOnlyDictionary<string, float[]>? into = null) => Forward(graph, new FrameContext(), inputs, fetch, into);

    /// <summary>
    /// <see cref="Run"/> into the graph's own frame, which the next such pass of the same graph refills (read
    /// what it holds first), as <see cref="TrainStep"/> does: with <paramref name="into"/> a steady pass
    /// allocates nothing (a decode loop runs one per token).
    /// </summary>
    public FrameContext RunReusingFrame(CompiledProgram graph, IReadOnlyDictionary<string, Array> inputs, IReadOnlyCollection<string>? fetch = null,
        IReadOnlyDictionary<string, float[]>? into = null)
    {
        var frame = graph.InferenceFrame ??= new FrameContext();
        frame.Reuse();
        return Forward(graph, frame, inputs, fetch, into);
    }

    private FrameContext Forward(CompiledProgram graph, FrameContext frame, IReadOnlyDictionary<string, Array> inputs,
        IReadOnlyCollection<string>? fetch, IReadOnlyDictionary<string, float[]>? into)
    {
        frame.Inputs = inputs;
        frame.Seed = StepSeed();
        frame.Fetch = fetch;
        frame.FetchInto = into;
        graph.Run(frame);
        return frame;
    }

    /// <summary>The optimizer's state tensors on the device: for every parameter, or under ZeRO-1 for this rank's shard only.</summary>
    public void EnsureOptimizerState() => Parameters.EnsureState(Optimizer.StateTensors, Shards is { } shards ? shards.Owns : null);

    /// <summary>The learning rate the schedule gives the next step.</summary>
    public double CurrentLearningRate => Schedule.At(Step);

    private ulong StepSeed() => (((ulong)(uint)Seed << 32) ^ (ulong)Step) + (ulong)(uint)RandomStream * 0x9E3779B97F4A7C15UL;

    /// <summary>The optimizer's hyperparameters for <paramref name="step"/>, written into <paramref name="last"/> when it is of the same optimizer.</summary>
    private StepUpdate UpdateFor(long step, StepUpdate? last)
    {
        var o = Optimizer;
        var update = last is not null && last.Kind == o.Kind && last.ClipNorm == o.ClipNorm ? last : new StepUpdate(o.Kind, new float[OptimizerScalars.Count], o.ClipNorm);
        var scalars = update.Scalars;
        scalars[OptimizerScalars.LearningRate] = (float)Schedule.At(step);
        scalars[OptimizerScalars.Beta1] = (float)o.Beta1;
        scalars[OptimizerScalars.Beta2] = (float)o.Beta2;
        scalars[OptimizerScalars.Epsilon] = (float)o.Epsilon;
        scalars[OptimizerScalars.WeightDecay] = (float)o.WeightDecay;
        scalars[OptimizerScalars.BiasCorrection1] = (float)(1 - Math.Pow(o.Beta1, step + 1));
        scalars[OptimizerScalars.BiasCorrection2] = (float)(1 - Math.Pow(o.Beta2, step + 1));
        scalars[OptimizerScalars.GradientScale] = 1f;
        return update;
    }

    public void Dispose()
    {
        foreach (var compiled in _compiled.Values) compiled.Dispose();
        _compiled.Clear();
        Parameters.Dispose();
        States.Dispose();
        Backend.Dispose();
    }
}
