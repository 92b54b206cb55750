using System.Runtime.ExceptionServices;
using Dataflow.Engine.Backends;
using Dataflow.Engine.Components;
using Dataflow.Engine.Ecs;
using Dataflow.Engine.Jobs;

namespace Dataflow.Engine.Compile;

/// <summary>
/// Compiles each placed kernel and binds its buffers in launch order. Device backends generate and
/// build source per kernel (clBuildProgram, GLSL to SPIR-V and a pipeline), so the distinct specs
/// are compiled in parallel on the job system; backends must take concurrent <see cref="IBackend.Compile"/>
/// calls. A failure is reported for the first failing kernel in dispatch order, as a serial loop would.
/// Copy kernels (<see cref="TransferSpec"/>) are the engine's own and need no backend. It makes the
/// <see cref="KernelTable"/>; kernels of one spec on one backend share an entry.
/// </summary>
public sealed class CompileSystem : ISystem, IDeferredChanges
{
    private static readonly QueryDescription Kernels = new QueryDescription().WithAll<KernelInfo, Placement>();

    public string Name => nameof(CompileSystem);

    public SystemAccess Access { get; } = SystemAccess.Of(
        reads: [typeof(SpecTable), typeof(BackendTable), typeof(KernelInfo), typeof(Placement)],
        writes: [typeof(KernelTable), typeof(CompiledKernel), typeof(Timing)]);

    public CommandBuffer Commands { get; } = new();

    public void Run(World world)
    {
        var specs = world.Resource<SpecTable>();
        var backends = world.Resource<BackendTable>();
        var table = new KernelTable();
        world.SetResource(table);
        var kernels = new List<(Entity Kernel, KernelInfo Info, Placement Placement)>();
        world.ForEachWithEntity(in Kernels, (Entity kernel, ref KernelInfo info, ref Placement placement) => kernels.Add((kernel, info, placement)));
        kernels.Sort((a, b) => a.Info.Order.CompareTo(b.Info.Order));

        // One compile per backend and spec key (a model's layers repeat the same specs), in dispatch order.
        var distinct = new List<(IBackend Backend, KernelSpec Spec)>();
        var indexOf = new Dictionary<(IBackend, string), int>();
        var compiledAt = new int[kernels.Count];
        for (int k = 0; k < kernels.Count; k++)
        {
            var (_, info, placement) = kernels[k];
            var spec = specs[info.Spec];
            if (spec is TransferSpec) { compiledAt[k] = -1; continue; }
            var backend = backends[placement.Backend];
            var key = (backend, spec.Key);
            if (!indexOf.TryGetValue(key, out int at))
            {
                indexOf[key] = at = distinct.Count;
                distinct.Add((backend, spec));
            }
            compiledAt[k] = at;
        }

        var compiled = new ICompiledKernel[distinct.Count];
        var failures = new ExceptionDispatchInfo?[distinct.Count];
        JobSystem.Shared.ParallelFor(distinct.Count, 1, (start, end) =>
        {
            for (int i = start; i < end; i++)
            {
                try { compiled[i] = distinct[i].Backend.Compile(distinct[i].Spec); }
                catch (Exception e) { failures[i] = ExceptionDispatchInfo.Capture(e); }
            }
        });
        foreach (var failure in failures) failure?.Throw();

        // Table entries in dispatch order: the distinct compiles, then a copy kernel each.
        var entryOf = compiled.Select(table.Intern).ToArray();
        for (int k = 0; k < kernels.Count; k++)
        {
            var (kernel, info, _) = kernels[k];
            int index = compiledAt[k] >= 0 ? entryOf[compiledAt[k]] : table.Intern(new TransferKernel((TransferSpec)specs[info.Spec]));
            Commands.Add(kernel, new CompiledKernel { Kernel = index });
            Commands.Add(kernel, new Timing());
        }
    }
}
