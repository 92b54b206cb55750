using System.Text;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Compile;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Frame;

namespace Dataflow.Engine.Sessions;

/// <summary>
/// A graph loaded into its own world and compiled for one set of dimension values. The compile
/// schedule (<see cref="CompileSchedule"/>) runs once, here; the frame schedule
/// (<see cref="FrameSchedule"/>: feed, dispatch, optimize, fetch) runs each step.
/// </summary>
public sealed class CompiledProgram : IDisposable
{
    private readonly Schedule _frameSchedule;
    private readonly DispatchSystem _dispatch = new();

    public CompiledProgram(StepGraph graph, IReadOnlyDictionary<string, long> bindings, IBackend backend, ParameterStore parameters, CompileOptions options, StateStore? states = null)
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
        World.SetResource(Context);
        World.SetResource(Buffers);
        var schedule = CompileSchedule.Create();
        try
        {
            schedule.Run(World);
        }
        catch
        {
            Dispose();
            throw;
        }

        CompileTimings = schedule.LastTimings;
        Kernels = KernelsInOrder(World);
        _frameSchedule = FrameSchedule.Create(parameters, backend, _dispatch);
    }

    public World World { get; }

    /// <summary>What the compilation started from (also the world's resource).</summary>
    public CompileContext Context { get; }

    /// <summary>The buffers the program allocated, freed with it (also the world's resource).</summary>
    public ProgramBuffers Buffers { get; } = new();

    /// <summary>Wall time of each compile system (a system's deferred changes not included), in the order they ran: for <c>bench compile</c> and <c>--verbose</c>.</summary>
    public IReadOnlyList<(string System, TimeSpan Elapsed)> CompileTimings { get; }

    /// <summary>The kernel entities in dispatch order.</summary>
    public IReadOnlyList<Entity> Kernels { get; }

    public int KernelCount => Kernels.Count;

    /// <summary>The frame <see cref="Session.TrainStep"/> refills for every step of this graph (null until the first).</summary>
    internal FrameContext? TrainingFrame { get; set; }

    /// <summary>The frame <see cref="Session.RunReusingFrame"/> refills for every forward pass of this graph (null until the first).</summary>
    internal FrameContext? InferenceFrame { get; set; }

    /// <summary>Wall time of each frame system (feed, dispatch, optimize, fetch) in the last step: for <c>bench</c>'s breakdown of what is not a kernel.</summary>
    public IReadOnlyList<(string System, TimeSpan Elapsed)> LastStepTimings => _frameSchedule.LastTimings;

    public bool Profile
    {
        get => _dispatch.Profile;
        set => _dispatch.Profile = value;
    }

    /// <summary>The tensor entity of each loaded graph node (nodes no output depends on are not loaded), matched by node id (<see cref="TensorOp.Id"/>).</summary>
    public IReadOnlyDictionary<Graph.Ir.Node, Entity> Tensors()
    {
        var byId = new Dictionary<int, Entity>();
        World.ForEachWithEntity(new QueryDescription().WithAll<TensorOp>(), (Entity entity, ref TensorOp op) => byId[op.Id] = entity);
        var tensors = new Dictionary<Graph.Ir.Node, Entity>();
        foreach (var node in Context.Graph.Nodes)
            if (byId.TryGetValue(node.Id, out var entity)) tensors[node] = entity;
        return tensors;
    }

    /// <summary>Runs one step: feed, dispatch, (optimize), fetch. Results land in <paramref name="frame"/>.</summary>
    public void Run(FrameContext frame)
    {
        World.SetResource(frame);
        try { _frameSchedule.Run(World); }
        finally { World.RemoveResource<FrameContext>(); }
    }

    private static List<Entity> KernelsInOrder(World world)
    {
        var kernels = new List<(int Order, Entity Kernel)>();
        world.ForEachWithEntity(new QueryDescription().WithAll<KernelInfo>(), (Entity kernel, ref KernelInfo info) => kernels.Add((info.Order, kernel)));
        return [.. kernels.OrderBy(k => k.Order).Select(k => k.Kernel)];
    }

    /// <summary>The kernels in dispatch order, with the backend each runs on, their fused ops and (when profiled) times: for <c>--verbose</c>.</summary>
    public string Describe(bool withTimings)
    {
        var sb = new StringBuilder();
        foreach (var kernel in Kernels)
        {
            var info = World.Get<KernelInfo>(kernel);
            var desc = World.Shape(World.Outputs(info)[0]).Desc;
            sb.Append($"  k{info.Order,-4} {World.Backend(World.Get<Placement>(kernel)).Name,-7} {World.Spec(info).DisplayName,-40} -> {desc}");
            if (withTimings)
            {
                var t = World.Get<Timing>(kernel);
                if (t.Launches > 0) sb.Append($"  {t.Milliseconds / t.Launches,8:F3} ms");
            }
            sb.AppendLine();
        }
        return sb.ToString();
    }

    /// <summary>Each kernel in dispatch order with the source its backend generated for it (<c>--verbose 4</c>), or a line saying the backend generates none.</summary>
    public string DescribeSources()
    {
        var sb = new StringBuilder();
        foreach (var kernel in Kernels)
        {
            var info = World.Get<KernelInfo>(kernel);
            var compiled = World.Compiled(kernel);
            sb.AppendLine($"  k{info.Order,-4} {World.Spec(info).DisplayName}:");
            sb.AppendLine(compiled.GeneratedSource ?? "    (none: this backend generates no kernel source; the CPU runs kernels written in C#)");
        }
        return sb.ToString();
    }

    /// <summary>
    /// Where the kernels run, for <c>--verbose 1</c>: the count on each backend and, when placement
    /// fell back, each kernel on the fallback and each copy between them (the rest run on the chosen backend).
    /// </summary>
    public string DescribePlacement()
    {
        var (primary, _) = WithFallback.Split(Context.Backend);
        var placed = Kernels.Select(k => (Info: World.Get<KernelInfo>(k), Spec: World.Spec(World.Get<KernelInfo>(k)), Backend: World.Backend(World.Get<Placement>(k)))).ToList();
        var sb = new StringBuilder("placement: ");
        sb.AppendJoin(", ", placed.Where(p => p.Spec is not TransferSpec).GroupBy(p => p.Backend.Name).Select(g => $"{g.Count()} kernels on {g.Key}"));
        int copies = placed.Count(p => p.Spec is TransferSpec);
        if (copies > 0) sb.Append($", {copies} copies");
        foreach (var (info, spec, backend) in placed.Where(p => !ReferenceEquals(p.Backend, primary) || p.Spec is TransferSpec))
        {
            sb.AppendLine();
            sb.Append($"  k{info.Order,-4} {backend.Name,-7} {spec.DisplayName}");
            if (spec is not TransferSpec) sb.Append($"  ({primary.Name}: {primary.SupportsOp(spec).Reason})");
        }
        return sb.ToString();
    }

    public void Dispose()
    {
        foreach (var buffer in Buffers.Owned) buffer.Dispose();
        World.Dispose();
    }
}
