using System.Text;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Frame;

namespace Dataflow.Engine.Sessions;

/// <summary>
/// A graph loaded into its own world and compiled for one set of dimension values. The compile
/// schedule runs once, here; the frame schedule (feed, dispatch, optimize, fetch) runs each step.
/// </summary>
public sealed class CompiledGraph : IDisposable
{
    private readonly Schedule _frameSchedule;
    private readonly DispatchSystem _dispatch;
    private FrameContext? _frame;

    public CompiledGraph(TrainingGraph graph, IReadOnlyDictionary<string, long> bindings, IBackend backend, ParameterStore parameters, CompileOptions options, StateStore? states = null)
    {
        World = new World();
        Context = new CompileContext
        {
            Graph = graph.Graph,
            Bindings = bindings,
            Backend = backend,
            Parameters = parameters,
            States = states,
            Options = options,
            Outputs = graph.Outputs,
            Gradients = graph.Gradients,
        };

        var compile = new Schedule("compile").AddStage("compile");
        ISystem[] compileSystems =
        [
            new GraphLoadSystem(Context), new ShapeInferenceSystem(Context), new FusionSystem(Context),
            new PlacementSystem(Context), new MemoryPlanningSystem(Context), new CompileSystem(Context),
        ];
        AddChain(compile, "compile", compileSystems);
        compile.Run(World, parallel: false);

        foreach (var kernel in Context.Kernels) World.Add(kernel, new Timing());
        _dispatch = new DispatchSystem(Context.Kernels, CurrentFrame);
        _frameSchedule = new Schedule("frame").AddStage("frame");
        AddChain(_frameSchedule, "frame",
        [
            new FeedSystem(CurrentFrame), _dispatch, new OptimizeSystem(parameters, backend, CurrentFrame), new FetchSystem(CurrentFrame),
        ]);
    }

    public World World { get; }
    public CompileContext Context { get; }
    public int KernelCount => Context.Kernels.Count;

    public bool Profile
    {
        get => _dispatch.Profile;
        set => _dispatch.Profile = value;
    }

    /// <summary>Runs one step: feed, dispatch, (optimize), fetch. Results land in <paramref name="frame"/>.</summary>
    public void Run(FrameContext frame)
    {
        _frame = frame;
        try { _frameSchedule.Run(World, parallel: false); }
        finally { _frame = null; }
    }

    private FrameContext CurrentFrame() => _frame ?? throw new InvalidOperationException("no step is running");

    private static void AddChain(Schedule schedule, string stage, IReadOnlyList<ISystem> systems)
    {
        for (int i = 0; i < systems.Count; i++)
            schedule.Add(systems[i], stage, i == 0 ? [] : [systems[i - 1].Name]);
    }

    /// <summary>The kernels in dispatch order, with their fused ops and (when profiled) times: for <c>--verbose</c>.</summary>
    public string Describe(bool withTimings)
    {
        var sb = new StringBuilder();
        foreach (var kernel in Context.Kernels)
        {
            var info = World.Get<KernelInfo>(kernel);
            sb.Append($"  k{info.Order,-4} {info.Spec.DisplayName,-40} -> {World.Get<TensorInfo>(info.Outputs[0]).Desc}");
            if (withTimings)
            {
                var t = World.Get<Timing>(kernel);
                if (t.Launches > 0) sb.Append($"  {t.Milliseconds / t.Launches,8:F3} ms");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    public void Dispose()
    {
        foreach (var buffer in Context.OwnedBuffers) buffer.Dispose();
        World.Dispose();
    }
}
